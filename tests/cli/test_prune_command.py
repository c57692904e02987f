import hashlib

import numpy as np
import pytest
import torch

from graphcurv.datasets import load_dataset
from graphcurv.models import MLP, build_model, evaluate, save_model, train_model
from graphcurv_cli.app import main

CONFIG = {"in_channels": 1, "image_size": 8, "num_classes": 10, "hidden": [16]}
TOTAL = 64 * 16 + 16 * 10  # prunable weights


@pytest.fixture(scope="module")
def digits_checkpoint(tmp_path_factory):
    """A 64-16-10 MLP trained on digits, saved as a graphcurv checkpoint that records its dataset."""
    torch.manual_seed(0)
    model = build_model("mlp", **CONFIG)
    train_model(model, load_dataset("digits", split="train"), epochs=6, lr=1e-2, batch_size=64)
    path = tmp_path_factory.mktemp("model") / "digits-mlp.pt"
    save_model(model, path, arch="mlp", config=CONFIG, metrics={"dataset": "digits"})
    return path, model.eval()


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _plain(path) -> tuple[dict, dict]:
    """The checkpoint read by plain torch (weights_only), and its state_dict."""
    checkpoint = torch.load(path, weights_only=True)
    return checkpoint, checkpoint["state_dict"]


def test_prune_writes_a_plain_model_with_exact_zeros(digits_checkpoint, tmp_path, capsys):
    path, model = digits_checkpoint
    before = _digest(path)
    out = tmp_path / "pruned.pt"
    assert (
        main(["--device", "cpu", "prune", str(path), "--ratio", "0.75", "--method", "magnitude", "-o", str(out)]) == 0
    )
    printed = capsys.readouterr().out
    checkpoint, state = _plain(out)
    assert set(state) == set(model.state_dict())  # no weight_orig / weight_mask
    zeros = sum(int((state[n] == 0).sum()) for n in ("classifier.0.weight", "classifier.2.weight"))
    assert zeros == int(np.floor(0.75 * TOTAL + 0.5)) == 888
    flat = torch.cat(
        [model.classifier[0].weight.detach().abs().flatten(), model.classifier[2].weight.detach().abs().flatten()]
    )
    kept = torch.cat([state["classifier.0.weight"].flatten(), state["classifier.2.weight"].flatten()]) != 0
    assert float(flat[kept].min()) > float(flat[~kept].max())  # the smallest |w| were removed
    plain = MLP(in_features=64, hidden=[16], num_classes=10)
    plain.load_state_dict(state)  # strict, an ordinary torch model
    test = load_dataset("digits", split="test")
    after = evaluate(plain, test)
    assert checkpoint["metrics"]["test_accuracy"] == after
    assert checkpoint["metrics"]["dense_test_accuracy"] == evaluate(model, test)
    assert (
        checkpoint["metrics"]["pruning"]["method"] == "magnitude" and checkpoint["metrics"]["pruning"]["removed"] == 888
    )
    assert f"{evaluate(model, test):.4f} dense, {after:.4f} pruned" in printed
    assert "classifier.0.weight" in printed and "75.0%" in printed
    assert _digest(path) == before


def test_prune_reuses_saved_curvature_scores(digits_checkpoint, tmp_path):
    path, model = digits_checkpoint
    generator = torch.Generator().manual_seed(5)
    kappa = {
        name: torch.randn(p.shape, generator=generator) for name, p in model.named_parameters() if "weight" in name
    }
    scores = tmp_path / "scores.pt"
    payload = {"format": "graphcurv-curvature-scores", "alpha": 0.9, "samples": 10, "param_scores": kappa,
               "checkpoints": {}, "metadata": {}}  # fmt: skip
    torch.save(payload, scores)
    out = tmp_path / "curv.pt"
    args = ["--device", "cpu", "prune", str(path), "--ratio", "0.5", "--scores", str(scores), "-o", str(out)]
    assert main([*args, "--scope", "layer"]) == 0
    _, state = _plain(out)
    for name, values in kappa.items():
        removed = state[name] == 0
        count = int(np.floor(0.5 * values.numel() + 0.5))
        assert int(removed.sum()) == count
        assert set(torch.nonzero(removed.flatten()).flatten().tolist()) == set(
            torch.argsort(values.flatten(), descending=True)[:count].tolist()
        )  # the largest curvature of each layer went first


def test_prune_computes_curvature_and_fine_tunes(digits_checkpoint, tmp_path, capsys):
    path, model = digits_checkpoint
    out = tmp_path / "tuned.pt"
    args = ["--device", "cpu", "prune", str(path), "--ratio", "0.5", "--per-class", "1", "--workers", "1"]
    assert main([*args, "--finetune", "1", "--lr", "0.01", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    checkpoint, state = _plain(out)
    zeros = sum(int((state[n] == 0).sum()) for n in ("classifier.0.weight", "classifier.2.weight"))
    assert zeros == TOTAL // 2  # the masks stayed through fine-tuning
    assert "after 1 epochs of fine-tuning" in printed
    assert checkpoint["metrics"]["pruning"]["finetune_epochs"] == 1


@pytest.mark.parametrize("ratio", ["1", "1.5", "-0.2", "nan"])
def test_prune_refuses_ratios_outside_zero_one(digits_checkpoint, tmp_path, capsys, ratio):
    path, _ = digits_checkpoint
    out = tmp_path / "x.pt"
    assert main(["prune", str(path), "--ratio", ratio, "--method", "magnitude", "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "must be in [0, 1)" in err and "Traceback" not in err
    assert not out.exists()


def test_prune_ratio_zero_keeps_every_weight(digits_checkpoint, tmp_path):
    path, model = digits_checkpoint
    out = tmp_path / "same.pt"
    assert main(["--device", "cpu", "prune", str(path), "--ratio", "0", "--method", "random", "-o", str(out)]) == 0
    _, state = _plain(out)
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())


def test_prune_never_overwrites_the_input(digits_checkpoint, tmp_path, capsys):
    path, _ = digits_checkpoint
    before = _digest(path)
    assert main(["prune", str(path), "--ratio", "0.5", "--method", "magnitude", "-o", str(path)]) == 1
    assert "is the input model" in capsys.readouterr().err
    link = tmp_path / "link.pt"
    link.symlink_to(path)
    assert main(["prune", str(path), "--ratio", "0.5", "--method", "magnitude", "-o", str(link)]) == 1
    assert "is the input model" in capsys.readouterr().err
    assert _digest(path) == before
    assert main(["prune", str(path), "--ratio", "0.5", "--method", "synflow", "--scores", str(path),
                 "-o", str(tmp_path / "y.pt")]) == 1  # fmt: skip
    assert "does not apply to --method synflow" in capsys.readouterr().err


def test_prune_a_bare_state_dict_without_a_dataset(digits_checkpoint, tmp_path, capsys):
    _, model = digits_checkpoint
    weights = tmp_path / "weights.pt"
    torch.save(model.state_dict(), weights)
    out = tmp_path / "pruned.pt"
    args = ["--device", "cpu", "prune", str(weights), "--arch", "mlp", "--ratio", "0.5", "-m", "synflow"]
    assert main([*args, "--iterations", "10", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "test accuracy" not in printed  # no dataset named, none recorded in a bare state_dict
    checkpoint, state = _plain(out)
    assert checkpoint["arch"] == "mlp" and checkpoint["config"]["hidden"] == [16]
    assert checkpoint["config"]["image_size"] == 8  # SynFlow's input shape came from it
    assert sum(int((state[n] == 0).sum()) for n in ("classifier.0.weight", "classifier.2.weight")) == TOTAL // 2
