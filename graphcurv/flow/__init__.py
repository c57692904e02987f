"""Ricci flow on edge lengths, and surgeries that cut edges during the flow."""

from graphcurv.flow.ricci_flow import RicciFlowResult, ricci_flow
from graphcurv.flow.surgery import cut_above, cut_longest

__all__ = ["RicciFlowResult", "cut_above", "cut_longest", "ricci_flow"]
