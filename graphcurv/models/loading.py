"""``load_model``: a model from what users actually have, safely by default.

Accepted files (recognised by content, not by name):

(a) a graphcurv checkpoint (:mod:`graphcurv.models.checkpoint`);
(b) a plain ``state_dict`` (or a dict holding one under ``"state_dict"``,
    ``"model_state_dict"``, ...) plus ``arch``, a zoo name; the configuration is
    inferred from the tensor shapes (:mod:`graphcurv.models.state_dict`), keyword
    arguments override it (``activation="tanh"``);
(c) a pickled ``nn.Module`` from ``torch.save(model)``, *only* with
    ``trust_pickle=True`` (CLI: ``--trust-pickle``): unpickling runs code stored in
    the file, so it must come from a trusted source. ``imports`` (module names or
    ``.py`` files) are imported first so the file's classes resolve; a class pickled
    from a script (``__main__.Net``) is also looked up in them;
(d) a ``torch.export`` archive (``.pt2``): ``torch.export.load(path).module()``,
    after checking that no member needs an unrestricted unpickler (else it too
    needs ``trust_pickle``). An archive exported with a fixed batch (the default of
    ``torch.export.export(model, (x,))``: the batch of ``x``) is returned as a
    :class:`~graphcurv.models.exported.FixedBatch`, which takes any batch;
(e) a TorchScript archive (``torch.jit.save``), loaded with ``torch.jit.load``.

(a) and (b) are read with ``torch.load(weights_only=True)``. Every failure is a
:class:`GraphcurvError` naming the file: corrupt file, a ``state_dict`` without
``arch``, an unknown architecture, tensors of the wrong shape.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import pickle
import re
import sys
import types
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from graphcurv.device import resolve_device
from graphcurv.errors import GraphcurvError
from graphcurv.models.archives import model_file_kind, pickled_export_members
from graphcurv.models.checkpoint import is_checkpoint
from graphcurv.models.exported import FixedBatch, static_batch_size
from graphcurv.models.registry import MODEL_NAMES, build_model, normalise_arch
from graphcurv.models.state_dict import infer_config, load_checked, unwrap_state_dict

__all__ = ["import_user_modules", "load_checkpoint", "load_model"]

TRUST_HINT = (
    "loading it runs code stored in the file; if you trust its source, pass --trust-pickle "
    "(trust_pickle=True in Python), or re-save the model as a state_dict"
)


def import_user_modules(imports: Iterable[str]) -> list[types.ModuleType]:
    """Import each entry: a module name (``mypkg.models``) or a path to a ``.py`` file."""
    modules = []
    for entry in imports:
        path = Path(entry).expanduser()
        try:
            if str(entry).endswith(".py"):
                if not path.is_file():
                    raise GraphcurvError(f"--import {entry}: no such file")
                spec = importlib.util.spec_from_file_location(path.stem, path)
                module = importlib.util.module_from_spec(spec)
                sys.modules[path.stem] = module
                spec.loader.exec_module(module)
            else:
                module = importlib.import_module(str(entry))
        except GraphcurvError:
            raise
        except Exception as exc:  # noqa: BLE001 - user code can fail in any way
            raise GraphcurvError(f"--import {entry} failed: {exc.__class__.__name__}: {exc}") from exc
        modules.append(module)
    return modules


def _pickle_module(modules: list[types.ModuleType]) -> types.ModuleType:
    """``pickle`` whose Unpickler also finds ``__main__.X`` classes in the imported modules."""

    class Unpickler(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> Any:
            try:
                return super().find_class(module, name)
            except AttributeError:
                found = [m for m in modules if hasattr(m, name)] if module == "__main__" else []
                if not found:
                    raise
                return getattr(found[0], name)

    shim = types.ModuleType("graphcurv_pickle")
    shim.__dict__.update({k: v for k, v in pickle.__dict__.items() if not k.startswith("__")})
    shim.Unpickler = Unpickler
    return shim


def _corrupt(path: Path, exc: BaseException) -> GraphcurvError:
    detail = " ".join(str(exc).split())[:200] or exc.__class__.__name__
    return GraphcurvError(
        f"{path}: not a readable model file (expected a graphcurv checkpoint, a state_dict, a torch.save'd "
        f"model, a .pt2 torch.export archive or TorchScript); the file may be corrupt: {detail}"
    )


def _safe_load(path: Path) -> Any:
    """``torch.load(weights_only=True)``; a file that needs more raises the --trust-pickle error."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        match = re.search(r"GLOBAL (\S+)", str(exc))  # torch names the class it refused
        if match is None:
            raise _corrupt(path, exc) from exc
        raise GraphcurvError(f"{path} is a full pickle (it stores the Python object {match[1]}): {TRUST_HINT}") from exc
    except (RuntimeError, EOFError, OSError, ValueError, KeyError, IndexError) as exc:
        raise _corrupt(path, exc) from exc


def _trusted_load(path: Path, modules: list[types.ModuleType]) -> Any:
    try:
        return torch.load(path, map_location="cpu", weights_only=False, pickle_module=_pickle_module(modules))
    except (AttributeError, ModuleNotFoundError) as exc:
        raise GraphcurvError(
            f"{path} refers to Python code that is not importable ({exc}): pass --import MODULE "
            "(a module name or a .py file) that defines the model's classes"
        ) from exc
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError) as exc:
        raise _corrupt(path, exc) from exc


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The raw graphcurv checkpoint dict (arch, config, state_dict, metrics), read safely."""
    path = Path(path)
    if not path.is_file():
        raise GraphcurvError(f"{path}: no such model file")
    kind = model_file_kind(path)
    if kind != "torch":
        name = "a torch.export archive" if kind == "export" else "TorchScript"
        raise GraphcurvError(f"{path} is not a graphcurv checkpoint (it is {name})")
    checkpoint = _safe_load(path)
    if not is_checkpoint(checkpoint):
        raise GraphcurvError(f"{path} is not a graphcurv checkpoint (no 'format': 'graphcurv-model')")
    return checkpoint


def _from_checkpoint(checkpoint: dict[str, Any], path: Path, arch: str | None, config: dict[str, Any]) -> nn.Module:
    stored = normalise_arch(checkpoint["arch"])
    if arch is not None and normalise_arch(arch) != stored:
        raise GraphcurvError(f"{path} holds a {stored} model, not a {normalise_arch(arch)} (drop --arch)")
    settings = {**checkpoint.get("config", {}), **config}
    return load_checked(build_model(stored, **settings), checkpoint["state_dict"], f"{stored} {settings}")


def _from_object(obj: Any, path: Path, arch: str | None, config: dict[str, Any]) -> nn.Module:
    if isinstance(obj, nn.Module):
        return obj
    if is_checkpoint(obj):
        return _from_checkpoint(obj, path, arch, config)
    state = unwrap_state_dict(obj)
    if state is None:
        raise GraphcurvError(f"{path} holds a {type(obj).__name__}, not a model or a state_dict")
    if arch is None:
        raise GraphcurvError(
            f"{path} is a state_dict (weights without their architecture): name the architecture with "
            f"--arch ({', '.join(MODEL_NAMES)}; arch=... in Python)"
        )
    settings = infer_config(arch, state, **config)
    return load_checked(build_model(arch, **settings), state, f"{normalise_arch(arch)} {settings}")


def _load_export(path: Path, trust_pickle: bool) -> nn.Module:
    try:
        flagged = pickled_export_members(path)
    except (OSError, ValueError, KeyError) as exc:
        raise _corrupt(path, exc) from exc
    if flagged and not trust_pickle:
        raise GraphcurvError(
            f"{path}: the torch.export archive has pickled members ({', '.join(flagged)}): {TRUST_HINT}"
        )
    try:
        program = torch.export.load(path)
        module = program.module()
    except Exception as exc:  # noqa: BLE001 - torch.export raises many types for a bad archive
        raise _corrupt(path, exc) from exc
    batch = static_batch_size(program)
    return module if batch is None else FixedBatch(module, batch)


def load_model(
    path: str | os.PathLike[str],
    *,
    arch: str | None = None,
    imports: Iterable[str] = (),
    trust_pickle: bool = False,
    device: str | torch.device = "cpu",
    **config: Any,
) -> nn.Module:
    """Load a model from a checkpoint, a state_dict, a pickled module or an export archive.

    Args:
        path: the model file (formats in the module docstring).
        arch: zoo architecture of a bare state_dict (``"mlp"``, ``"lenet"``, ``"vgg9-lite"``).
        imports: modules (names or ``.py`` paths) to import first, for pickled user classes.
        trust_pickle: allow unpickling arbitrary Python objects (runs code from the file).
        device: where to put the model.
        config: ``build_model`` settings overriding stored / inferred ones (``activation="tanh"``).

    Returns:
        The model on ``device``, in eval mode where the module supports it.

    >>> import tempfile, pathlib
    >>> from graphcurv.models import build_model
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "w.pt"
    >>> torch.save(build_model("lenet").state_dict(), path)
    >>> type(load_model(path, arch="lenet")).__name__
    'LeNet'
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise GraphcurvError(f"{path}: no such model file")
    dev = resolve_device(device)
    modules = import_user_modules(imports)
    kind = model_file_kind(path)
    if kind == "export":
        model = _load_export(path, trust_pickle)
    elif kind == "torchscript":
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # torch 2.13 deprecates TorchScript
                model = torch.jit.load(str(path), map_location="cpu")
        except RuntimeError as exc:
            raise _corrupt(path, exc) from exc
    else:
        try:
            obj = _safe_load(path)
        except GraphcurvError:
            if not trust_pickle:
                raise
            obj = _trusted_load(path, modules)
        model = _from_object(obj, path, arch, config)
    model = model.to(dev)
    with contextlib.suppress(NotImplementedError, RuntimeError):  # torch.export modules refuse .eval()
        model.eval()
    return model
