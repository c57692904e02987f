"""Curvature of graph edges: Ollivier-Ricci (exact and batched) and the Forman family."""

from graphcurv.curvature.ollivier import OllivierRicciResult, ollivier_ricci

__all__ = ["OllivierRicciResult", "ollivier_ricci"]
