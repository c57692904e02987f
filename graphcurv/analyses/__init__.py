"""Analyses built on curvature and Ricci flow: results objects that the CLI renders and saves.

``graphcurv.analyses.communities``: communities from Ricci flow, with Louvain and
stochastic block model baselines and agreement with ground truth.
"""
