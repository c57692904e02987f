"""Curvature of graph edges: Ollivier-Ricci (exact and batched), the Forman family, bounds."""

from graphcurv.curvature.bounds import bounds_coincide, curvature_upper_bound, jost_liu_lower_bound
from graphcurv.curvature.forman import FORMAN_CURVATURES, augmented_forman, balanced_forman, forman, forman_curvature
from graphcurv.curvature.idleness import lin_lu_yau, ollivier_ricci_alphas
from graphcurv.curvature.ollivier import OllivierRicciResult, ollivier_ricci

__all__ = [
    "FORMAN_CURVATURES",
    "OllivierRicciResult",
    "augmented_forman",
    "balanced_forman",
    "bounds_coincide",
    "curvature_upper_bound",
    "forman",
    "forman_curvature",
    "jost_liu_lower_bound",
    "lin_lu_yau",
    "ollivier_ricci",
    "ollivier_ricci_alphas",
]
