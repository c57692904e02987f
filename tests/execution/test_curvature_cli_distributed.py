"""``graphcurv curvature --workers N --distributed`` and ``--scheduler ADDRESS`` give the
same CSV as the default in-process run."""

from __future__ import annotations

import csv

from support import requires_module

from graphcurv.execution import DaskExecutor
from graphcurv_cli.app import main


def curvatures(path):
    return [(r["source"], r["target"], r["edge_curvature"]) for r in csv.DictReader(path.open())]


def test_distributed_and_scheduler_options_give_the_default_values(tmp_path):
    requires_module("distributed")
    graph = "ba:n=300,m=3,seed=2"
    default, local_cluster, remote = (tmp_path / f"{name}.csv" for name in ("default", "local", "remote"))
    assert main(["curvature", graph, "-o", str(default)]) == 0
    assert main(["curvature", graph, "--workers", "2", "--distributed", "-o", str(local_cluster)]) == 0
    with DaskExecutor(workers=1) as cluster:  # a running cluster to connect to by address
        address = cluster.client.scheduler.address
        assert main(["curvature", graph, "--scheduler", address, "-o", str(remote)]) == 0
    assert len(curvatures(default)) > 800
    assert curvatures(local_cluster) == curvatures(default)
    assert curvatures(remote) == curvatures(default)
