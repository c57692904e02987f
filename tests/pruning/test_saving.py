"""A pruned model is written back in the format it came in (graphcurv.pruning.saving)."""

import warnings

import pytest
import torch
from torch import nn

from graphcurv.errors import GraphcurvError
from graphcurv.models import build_model, load_model, save_model
from graphcurv.pruning import prune_masks, pruned_copy, score
from graphcurv.pruning.saving import output_suffixes, recorded_checkpoint, save_pruned, zoo_config

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
CONFIG = {"in_channels": 1, "image_size": 8, "num_classes": 10, "hidden": [6]}


def _pruned(net):
    return pruned_copy(net, prune_masks(score(net, method="magnitude"), 0.5))


def test_a_zoo_checkpoint_stays_a_checkpoint_with_its_dense_metrics(tmp_path):
    net = build_model("mlp", **CONFIG)
    save_model(net, tmp_path / "dense.pt", arch="mlp", config=CONFIG, metrics={"test_accuracy": 0.9, "dataset": "x"})
    checkpoint = recorded_checkpoint(tmp_path / "dense.pt")
    written = save_pruned(_pruned(net), tmp_path / "p.pt", source=tmp_path / "dense.pt",
                          zoo=zoo_config(net, checkpoint), checkpoint=checkpoint, metrics={"test_accuracy": 0.5})  # fmt: skip
    assert written == "a graphcurv checkpoint"
    saved = torch.load(tmp_path / "p.pt", weights_only=True)
    assert saved["metrics"] == {"dense_test_accuracy": 0.9, "dataset": "x", "test_accuracy": 0.5}
    assert output_suffixes(tmp_path / "dense.pt") == (".pt", ".pth")


def test_archives_and_torchscript_are_written_as_archives_and_torchscript(tmp_path):
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 4)).eval()
    x = torch.zeros(1, 1, 8, 8)
    torch.export.save(torch.export.export(net, (x,)), tmp_path / "m.pt2")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.jit.trace(net, x).save(str(tmp_path / "m.ts"))
    for source, out, suffixes in [("m.pt2", "p.pt2", (".pt2",)), ("m.ts", "p.ts", (".pt", ".pth", ".ts"))]:
        loaded = load_model(tmp_path / source)
        pruned = _pruned(loaded)
        assert output_suffixes(tmp_path / source) == suffixes
        save_pruned(pruned, tmp_path / out, source=tmp_path / source, zoo=None, checkpoint=None)
        back = load_model(tmp_path / out)
        assert torch.equal(back.state_dict()["1.weight"], pruned.state_dict()["1.weight"])
        assert int((back.state_dict()["1.weight"] == 0).sum()) == 128
    with pytest.raises(GraphcurvError, match="has no tensor"):
        save_pruned(nn.Linear(2, 2), tmp_path / "x.pt2", source=tmp_path / "m.pt2", zoo=None, checkpoint=None)
    assert not (tmp_path / "x.pt2").exists()


def test_any_other_module_is_written_as_its_state_dict(tmp_path):
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 4))
    written = save_pruned(_pruned(net), tmp_path / "p.pt", source=tmp_path / "m.pt", zoo=None, checkpoint=None)
    assert written.startswith("a state_dict")
    assert set(torch.load(tmp_path / "p.pt", weights_only=True)) == {"1.weight", "1.bias"}
