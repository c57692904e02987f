"""Graph sources: loaders, converters, generators and checks, all producing PyG ``Data``.

A graph is a :class:`torch_geometric.data.Data` with ``edge_index`` (2, E) long,
``edge_weight`` (E,) float64 edge *lengths* (1.0 when unweighted) and an explicit
``num_nodes``; an undirected graph stores both directions of each edge with one
length. Ground truth goes in ``y`` / ``y_name``, original node identifiers in
``node_names``, a short provenance string in ``name``. Every loader ends with
:func:`validate_graph`, the one place where input is checked and normalised.

>>> from graphcurv.graphs import load_graph, graph_summary
>>> graph_summary(load_graph("karate")).edges
78
"""

from graphcurv.graphs.collection import collection_names, load_collection
from graphcurv.graphs.convert import (
    from_graph_tool,
    from_networkx,
    from_scipy,
    label_codes,
    to_graph_tool,
    to_networkx,
    to_scipy,
)
from graphcurv.graphs.generators import (
    barabasi_albert,
    erdos_renyi,
    stochastic_block_model,
    watts_strogatz,
)
from graphcurv.graphs.io import load_data, read_edgelist, save_graph, write_edge_csv
from graphcurv.graphs.lengths import affinities_from_lengths, lengths_from_affinities
from graphcurv.graphs.source import load_graph, parse_generator_spec
from graphcurv.graphs.summary import GraphSummary, graph_summary
from graphcurv.graphs.validate import GraphInputWarning, validate_graph

__all__ = [
    "GraphInputWarning",
    "GraphSummary",
    "affinities_from_lengths",
    "barabasi_albert",
    "collection_names",
    "erdos_renyi",
    "from_graph_tool",
    "from_networkx",
    "from_scipy",
    "graph_summary",
    "label_codes",
    "lengths_from_affinities",
    "load_collection",
    "load_data",
    "load_graph",
    "parse_generator_spec",
    "read_edgelist",
    "save_graph",
    "stochastic_block_model",
    "to_graph_tool",
    "to_networkx",
    "to_scipy",
    "validate_graph",
    "watts_strogatz",
    "write_edge_csv",
]
