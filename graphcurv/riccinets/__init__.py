"""RicciNets: Ricci-flow pruning of randomly wired networks before training (Glass et al.).

* :mod:`~graphcurv.riccinets.wiring`: random stage DAGs (WS, ER, BA), saved as plain edge lists;
* :mod:`~graphcurv.riccinets.mass`: the RicciNets node mass as a valid probability measure;
* :mod:`~graphcurv.riccinets.prune`: Ricci flow under that mass and the cut below the mean weight;
* :mod:`~graphcurv.riccinets.graph_ops`: edge removal that keeps every stage a valid DAG.
"""
