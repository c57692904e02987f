"""RicciNets: Ricci-flow pruning of randomly wired networks before training (Glass et al.).

* :mod:`~graphcurv.riccinets.wiring`: random stage DAGs (WS, ER, BA), saved as plain edge lists;
* :mod:`~graphcurv.riccinets.mass`: the RicciNets node mass as a valid probability measure;
* :mod:`~graphcurv.riccinets.prune`: Ricci flow under that mass and the cut below the mean weight;
* :mod:`~graphcurv.riccinets.graph_ops`: edge removal that keeps every stage a valid DAG;
* :mod:`~graphcurv.riccinets.network`, :mod:`~graphcurv.riccinets.flops`: the RandWire network
  and its FLOPs (FlopCounterMode, aggregation sums and BatchNorm included);
* :mod:`~graphcurv.riccinets.controller`, :mod:`~graphcurv.riccinets.search`: the REINFORCE
  controller and the search loop;
* :mod:`~graphcurv.riccinets.magnitude`, :mod:`~graphcurv.riccinets.pipeline`,
  :mod:`~graphcurv.riccinets.compare`: the lowest-magnitude baseline, training, the paper's
  comparison;
* :mod:`~graphcurv.riccinets.saving`, :mod:`~graphcurv.riccinets.drawing`: the pruned network
  written as a checkpoint with its provenance, and the drawing of the pruned stages.

Docs: docs/riccinets.md.
"""
