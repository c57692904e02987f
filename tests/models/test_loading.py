import io
import sys
import textwrap
import zipfile

import pytest
import torch

from graphcurv.errors import GraphcurvError
from graphcurv.models import LeNet, build_model, load_checkpoint, load_model, save_model

X28 = torch.rand(3, 1, 28, 28, generator=torch.Generator().manual_seed(0))


def _same_outputs(a, b, x=X28):
    with torch.no_grad():
        return torch.allclose(a(x), b(x), atol=1e-6)


def _lenet(activation="relu", **kwargs):
    torch.manual_seed(1)
    return build_model("lenet", activation=activation, **kwargs).eval()


def test_checkpoint_round_trip_is_weights_only(tmp_path):
    model = _lenet("tanh")
    config = {"in_channels": 1, "image_size": 28, "num_classes": 10, "activation": "tanh"}
    path = save_model(model, tmp_path / "m.pt", arch="LeNet", config=config, metrics={"acc": torch.tensor(0.5)})
    raw = torch.load(path, weights_only=True)  # no code runs: plain containers and tensors only
    assert raw["format"] == "graphcurv-model" and raw["arch"] == "lenet" and raw["metrics"] == {"acc": 0.5}
    assert load_checkpoint(path)["config"] == config
    loaded = load_model(path)
    assert isinstance(loaded, LeNet) and not loaded.training
    assert isinstance(loaded.features[1], torch.nn.Tanh)
    assert _same_outputs(model, loaded)
    with pytest.raises(GraphcurvError, match="holds a lenet model, not a mlp"):
        load_model(path, arch="mlp")


def test_failed_save_leaves_nothing(tmp_path):
    with pytest.raises(GraphcurvError, match=r"metrics.x: object cannot be stored"):
        save_model(_lenet(), tmp_path / "m.pt", arch="lenet", metrics={"x": object()})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "arch,config,x",
    [
        ("lenet", {"in_channels": 3, "image_size": 32, "num_classes": 7}, torch.rand(2, 3, 32, 32)),
        ("mlp", {"in_channels": 1, "image_size": 8, "hidden": [50, 20]}, torch.rand(2, 1, 8, 8)),
        ("vgg9-lite", {"in_channels": 1, "image_size": 28}, torch.rand(2, 1, 28, 28)),
    ],
)
def test_state_dict_with_arch_infers_the_shapes(tmp_path, arch, config, x):
    torch.manual_seed(2)
    model = build_model(arch, **config).eval()
    torch.save(model.state_dict(), tmp_path / "w.pt")
    loaded = load_model(tmp_path / "w.pt", arch=arch)
    assert _same_outputs(model, loaded, x)
    assert sum(p.numel() for p in loaded.parameters()) == sum(p.numel() for p in model.parameters())


def test_wrapped_and_data_parallel_state_dicts(tmp_path):
    model = _lenet()
    prefixed = {f"module.{k}": v for k, v in model.state_dict().items()}
    torch.save({"epoch": 3, "model_state_dict": prefixed}, tmp_path / "w.pt")
    assert _same_outputs(model, load_model(tmp_path / "w.pt", arch="lenet"))


def test_state_dict_needs_arch_and_the_right_shapes(tmp_path):
    torch.save(_lenet().state_dict(), tmp_path / "w.pt")
    with pytest.raises(GraphcurvError, match=r"is a state_dict.*--arch \(mlp, lenet, vgg9-lite"):
        load_model(tmp_path / "w.pt")
    with pytest.raises(GraphcurvError, match="unknown architecture 'resnet'"):
        load_model(tmp_path / "w.pt", arch="resnet")
    with pytest.raises(GraphcurvError, match=r"classifier.4.weight has shape \(10, 84\), expected \(5, 84\)"):
        load_model(tmp_path / "w.pt", arch="lenet", num_classes=5)
    with pytest.raises(GraphcurvError, match=r"features.0.weight has shape \(6, 1, 6, 6\), expected \(6, 3, 6, 6\)"):
        load_model(tmp_path / "w.pt", arch="lenet", in_channels=3)
    with pytest.raises(GraphcurvError, match="missing tensors .*unexpected tensors"):
        load_model(tmp_path / "w.pt", arch="vgg9-lite")


@pytest.mark.parametrize("content", [b"", b"garbage" * 10, "truncated"])
def test_corrupt_files(tmp_path, content):
    path = tmp_path / "bad.pt"
    if content == "truncated":
        torch.save(_lenet().state_dict(), path)
        content = path.read_bytes()[:1000]
    path.write_bytes(content)
    with pytest.raises(GraphcurvError, match="bad.pt: not a readable model file"):
        load_model(path, arch="lenet")
    with pytest.raises(GraphcurvError, match="no such model file"):
        load_model(tmp_path / "missing.pt")


def test_pickled_module_needs_trust(tmp_path):
    model = _lenet()
    torch.save(model, tmp_path / "whole.pt")
    with pytest.raises(
        GraphcurvError, match=r"full pickle \(it stores the Python object graphcurv.models.zoo.LeNet\).*--trust-pickle"
    ):
        load_model(tmp_path / "whole.pt")
    assert _same_outputs(model, load_model(tmp_path / "whole.pt", trust_pickle=True))


USER_MODULE = """
import torch

class TinyNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(784, 10)

    def forward(self, x):
        return self.fc(x.flatten(1))
"""


def _user_module(tmp_path, name):
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(USER_MODULE))
    sys.path.insert(0, str(tmp_path))
    try:
        module = __import__(name)
    finally:
        sys.path.remove(str(tmp_path))
    return path, module


def test_user_classes_resolve_through_imports(tmp_path):
    path, module = _user_module(tmp_path, "graphcurv_test_usernet")
    model = module.TinyNet().eval()
    torch.save(model, tmp_path / "user.pt")
    del sys.modules["graphcurv_test_usernet"]
    with pytest.raises(GraphcurvError, match="not importable.*--import MODULE"):
        load_model(tmp_path / "user.pt", trust_pickle=True)
    loaded = load_model(tmp_path / "user.pt", trust_pickle=True, imports=[str(path)])
    assert type(loaded).__name__ == "TinyNet" and _same_outputs(model, loaded)
    sys.modules.pop("graphcurv_test_usernet", None)
    with pytest.raises(GraphcurvError, match="--import nowhere_module_xyz failed"):
        load_model(tmp_path / "user.pt", trust_pickle=True, imports=["nowhere_module_xyz"])


def test_classes_pickled_from_a_script_are_found_in_imports(tmp_path, monkeypatch):
    path, module = _user_module(tmp_path, "graphcurv_test_script")
    cls = module.TinyNet
    monkeypatch.setattr(cls, "__module__", "__main__")
    monkeypatch.setattr(sys.modules["__main__"], "TinyNet", cls, raising=False)
    model = cls().eval()
    torch.save(model, tmp_path / "script.pt")  # pickled as __main__.TinyNet
    monkeypatch.delattr(sys.modules["__main__"], "TinyNet")
    del sys.modules["graphcurv_test_script"]
    loaded = load_model(tmp_path / "script.pt", trust_pickle=True, imports=[str(path)])
    assert _same_outputs(model, loaded)
    sys.modules.pop("graphcurv_test_script", None)


def test_export_archive_round_trip(tmp_path):
    model = _lenet()
    torch.export.save(torch.export.export(model, (X28,)), tmp_path / "m.pt2")
    loaded = load_model(tmp_path / "m.pt2")
    assert _same_outputs(model, loaded)


class _Marker:
    """Unpickling it creates a file: proof that code from the file ran."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (str(self.path), "w"))


def test_export_archive_with_pickled_code_is_refused(tmp_path):
    model = _lenet()
    good = tmp_path / "m.pt2"
    torch.export.save(torch.export.export(model, (X28,)), good)
    marker = tmp_path / "code-ran"
    bad = tmp_path / "bad.pt2"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for name in src.namelist():
            content = src.read(name)
            if name.endswith("sample_inputs/model.pt"):
                buffer = io.BytesIO()
                torch.save(_Marker(marker), buffer)
                content = buffer.getvalue()
            dst.writestr(name, content)
    with pytest.raises(GraphcurvError, match=r"pickled members \(.*sample_inputs/model.pt\).*--trust-pickle"):
        load_model(bad)
    assert not marker.exists()
    # the threat is real: trusting the file runs its code (then torch.export rejects the odd sample inputs)
    with pytest.raises(GraphcurvError, match="not a readable model file"):
        load_model(bad, trust_pickle=True)
    assert marker.exists()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_torchscript_round_trip(tmp_path):
    model = _lenet()
    torch.jit.trace(model, X28).save(str(tmp_path / "m.ts"))
    assert _same_outputs(model, load_model(tmp_path / "m.ts"))


@pytest.mark.parametrize("batch", [1, 2])
def test_an_export_archive_with_a_fixed_batch_takes_any_batch(tmp_path, batch):
    model = _lenet()
    torch.export.save(torch.export.export(model, (X28[:batch],)), tmp_path / "m.pt2")  # the default: a fixed batch
    loaded = load_model(tmp_path / "m.pt2")
    assert loaded.batch_size == batch
    assert list(dict(loaded.named_parameters())) == list(dict(model.named_parameters()))  # the model's own names
    x = torch.rand(5, 1, 28, 28, generator=torch.Generator().manual_seed(2))
    assert _same_outputs(model, loaded, x) and _same_outputs(model, loaded, x[:1])


def test_checkpoints_are_not_looked_for_in_archives(tmp_path):
    model = _lenet()
    torch.export.save(torch.export.export(model, (X28[:1],)), tmp_path / "m.pt2")
    with pytest.raises(GraphcurvError, match="not a graphcurv checkpoint.*torch.export archive"):
        load_checkpoint(tmp_path / "m.pt2")
