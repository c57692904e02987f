"""Neural curvature kappa_N of a model's edges over a calibration set (spec: neural-curvature.md)."""

from graphcurv.neural.curvature.chain import NeuralChain, neural_chain
from graphcurv.neural.curvature.engine import NeuralCurvature, neural_curvature
from graphcurv.neural.curvature.reference import reference_curvature

__all__ = ["NeuralChain", "NeuralCurvature", "neural_chain", "neural_curvature", "reference_curvature"]
