import torch

from graphcurv.datasets import load_dataset
from graphcurv.models import evaluate, load_model
from graphcurv_cli.app import main


def _train(tmp_path, name, *extra):
    out = tmp_path / name
    args = ["--device", "cpu", "--seed", "3", "train", "mlp", "--dataset", "digits", "--epochs", "2"]
    return main([*args, "--batch-size", "64", "--lr", "0.01", "--hidden", "32", *extra, "-o", str(out)]), out


def test_train_writes_a_checkpoint_with_its_metrics(tmp_path, capsys):
    code, out = _train(tmp_path, "mlp.pt")
    assert code == 0
    printed = capsys.readouterr().out
    assert "val accuracy" in printed and "test accuracy" in printed and "wrote" in printed
    checkpoint = torch.load(out, weights_only=True)
    assert checkpoint["arch"] == "mlp"
    assert checkpoint["config"] == {
        "in_channels": 1, "image_size": 8, "num_classes": 10, "activation": "relu", "hidden": [32],
    }  # fmt: skip
    metrics = checkpoint["metrics"]
    assert metrics["epochs"] == 2 and metrics["seed"] == 3 and len(metrics["history"]) == 2
    model = load_model(out)
    assert metrics["test_accuracy"] == evaluate(model, load_dataset("digits", split="test"))
    assert metrics["val_accuracy"] == evaluate(model, load_dataset("digits", split="val"))
    assert metrics["test_accuracy"] > 0.5  # chance is 0.1
    assert f"test accuracy {metrics['test_accuracy']:.4f}" in printed


def test_same_seed_same_weights(tmp_path):
    _, a = _train(tmp_path, "a.pt")
    _, b = _train(tmp_path, "b.pt")
    _, c = _train(tmp_path, "c.pt", "--weight-decay", "0.5", "--activation", "tanh")
    sa, sb, sc = (torch.load(p, weights_only=True)["state_dict"] for p in (a, b, c))
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not all(torch.equal(sa[k], sc[k]) for k in sa)
    assert torch.load(c, weights_only=True)["config"]["activation"] == "tanh"


def test_train_errors_are_one_line(tmp_path, capsys):
    assert main(["train", "mlp", "--dataset", "digits", "-o", str(tmp_path / "m.json")]) == 1
    assert "--output must end in .pt" in capsys.readouterr().err
    assert main(["train", "resnet", "--dataset", "digits", "-o", str(tmp_path / "m.pt")]) == 1
    assert "unknown architecture 'resnet'" in capsys.readouterr().err
    assert main(["train", "lenet", "--dataset", "digits", "--hidden", "5", "-o", str(tmp_path / "m.pt")]) == 1
    assert "--hidden applies to the mlp only" in capsys.readouterr().err
    assert main(["train", "lenet", "--dataset", "mnist", "-o", str(tmp_path / "m.pt")]) == 1
    err = capsys.readouterr().err
    assert "--data-root" in err and "Traceback" not in err
    assert not list(tmp_path.iterdir())
