"""Curvature of graph edges: Ollivier-Ricci (exact and batched), the Forman family, bounds."""

from graphcurv.curvature.bounds import bounds_coincide, curvature_upper_bound, jost_liu_lower_bound
from graphcurv.curvature.forman import augmented_forman, balanced_forman, forman
from graphcurv.curvature.idleness import lin_lu_yau, ollivier_ricci_alphas
from graphcurv.curvature.ollivier import OllivierRicciResult, ollivier_ricci

__all__ = [
    "OllivierRicciResult",
    "augmented_forman",
    "balanced_forman",
    "bounds_coincide",
    "curvature_upper_bound",
    "forman",
    "jost_liu_lower_bound",
    "lin_lu_yau",
    "ollivier_ricci",
    "ollivier_ricci_alphas",
]
