"""Writing a pruned RandWire and drawing its stages are library functions, the ones the CLI runs."""

import contextlib
import io

import torch

from graphcurv.datasets import load_dataset
from graphcurv.models import load_model
from graphcurv.riccinets.drawing import draw_stages, topological_layout
from graphcurv.riccinets.network import RandWire
from graphcurv.riccinets.prune import ricci_prune
from graphcurv.riccinets.saving import write_pruned_network
from graphcurv.riccinets.wiring import stage_graphs
from graphcurv_cli.app import main

HPARAMS = {"alpha": 0.5, "beta": 0.5, "gamma": 0.0, "delta": 0.5}
WIRING = {"generator": "ws", "n": 8, "k": 4, "p": 0.75, "m": 2, "stages": 3, "seed": 2}


def test_the_library_writes_the_network_the_cli_writes(tmp_path):
    cli, lib = tmp_path / "cli.pt", tmp_path / "lib.pt"
    args = ["--device", "cpu", "--seed", "2", "riccinets", "prune", "--dataset", "digits", "--n", "8", "--k", "4",
            "--iterations", "3", "--channels", "4", "--head-channels", "8", "-o", str(cli)]  # fmt: skip
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(args) == 0
    graphs = stage_graphs(3, 8, "ws", k=4, p=0.75, m=2, seed=2)
    cuts = [ricci_prune(g, **HPARAMS, iterations=3, dangling="isolated") for g in graphs]
    shape = load_dataset("digits", split="test")
    written = write_pruned_network(lib, graphs, cuts, shape, hparams=HPARAMS, channels=4, head_channels=8,
                                   dangling="isolated", iterations=3, dataset="digits", wiring=WIRING, seed=2)  # fmt: skip
    assert written.path == lib and written.stats.edges < written.base.edges
    a, b = (torch.load(p, weights_only=True) for p in (cli, lib))
    assert (a["arch"], a["config"], a["metrics"]) == (b["arch"], b["config"], b["metrics"])
    assert a["state_dict"].keys() == b["state_dict"].keys()
    assert all(torch.equal(a["state_dict"][k], b["state_dict"][k]) for k in a["state_dict"])
    assert isinstance(load_model(lib), RandWire)
    png = draw_stages(tmp_path / "stages.png", graphs, [c.pruned for c in cuts], title="stages")
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_nodes_sit_at_their_longest_path_from_a_source():
    assert topological_layout([(0, 2), (1, 2), (2, 3)], 4) == [(0.0, -0.5), (0.0, 0.5), (1.0, 0.0), (2.0, 0.0)]
