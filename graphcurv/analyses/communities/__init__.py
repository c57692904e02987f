"""Communities from Ricci flow, baselines, and agreement with ground truth.

* :func:`ricci_communities`: Ricci flow, then a cutoff sweep over the flowed weights
  (:func:`community_sweep`), keeping the partition of highest modularity;
* :func:`louvain_labels`, :func:`sbm_labels`: Louvain (networkx) and stochastic block
  model inference (graph-tool) baselines;
* :func:`modularity` (on the topology: every edge counts 1), :func:`adjusted_rand_index`,
  :func:`normalized_mutual_information` (scikit-learn);
* :func:`compare_methods`: the table rows (method, communities, modularity, ARI, NMI,
  seconds); :func:`draw_communities`: a PNG coloured by community.
"""

from graphcurv.analyses.communities.baselines import louvain_labels, sbm_labels
from graphcurv.analyses.communities.drawing import draw_communities
from graphcurv.analyses.communities.labels import ground_truth
from graphcurv.analyses.communities.metrics import (
    adjusted_rand_index,
    clustering_agreement,
    normalized_mutual_information,
)
from graphcurv.analyses.communities.modularity import modularity
from graphcurv.analyses.communities.report import METHODS, CommunityRow, compare_methods
from graphcurv.analyses.communities.ricci import RicciCommunities, ricci_communities
from graphcurv.analyses.communities.sweep import CommunitySweep, community_sweep

__all__ = [
    "METHODS",
    "CommunityRow",
    "CommunitySweep",
    "RicciCommunities",
    "adjusted_rand_index",
    "clustering_agreement",
    "community_sweep",
    "compare_methods",
    "draw_communities",
    "ground_truth",
    "louvain_labels",
    "modularity",
    "normalized_mutual_information",
    "ricci_communities",
    "sbm_labels",
]
