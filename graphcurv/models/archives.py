"""What kind of model file is this, and does a ``torch.export`` archive hide pickled code?

:func:`model_file_kind` sniffs a file's content (not its name):

* ``"export"``: a ``torch.export.save`` archive (``.pt2``: a zip with ``archive_format``);
* ``"torchscript"``: a ``torch.jit.save`` archive (a zip with ``constants.pkl`` and ``code/``);
* ``"torch"``: anything else, read by ``torch.load`` (a ``torch.save`` zip or a legacy pickle).

``torch.export.load`` unpickles some members with ``weights_only=False`` (tensor
subclasses, custom and opaque objects, sample inputs that fail the safe loader,
legacy files), so :func:`pickled_export_members` lists every member of an export
archive that is neither JSON, nor one of its small text markers, nor a raw tensor
payload, and does not load with ``torch.load(weights_only=True)``. An archive with
none of them loads without running code stored in it.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import torch

__all__ = ["model_file_kind", "pickled_export_members"]

_TEXT_MARKERS = {
    "archive_format", "archive_version", "byteorder", "version", ".format_version",
    ".storage_alignment", "serialization_id",
}  # fmt: skip
_PAYLOAD_CONFIGS = ("model_weights_config.json", "model_constants_config.json")
_RAW_PREFIXES = ("weight_", "tensor_constant")


def model_file_kind(path: Path) -> str:
    """``"export"``, ``"torchscript"`` or ``"torch"`` (see the module docstring)."""
    if not zipfile.is_zipfile(path):
        return "torch"
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return "torch"
    base = {name.rsplit("/", 1)[-1] for name in names}
    if "archive_format" in base:
        return "export"
    if "constants.pkl" in base and any("/code/" in name for name in names):
        return "torchscript"
    return "torch"


def _raw_payloads(archive: zipfile.ZipFile) -> tuple[set[str], list[str]]:
    """Members stored as raw tensor bytes, and members that are custom/opaque pickled objects."""
    raw, objects = set(), []
    for name in archive.namelist():
        if not name.endswith(_PAYLOAD_CONFIGS):
            continue
        folder = name.rsplit("/", 1)[0]
        entries = json.loads(archive.read(name)).get("config", {})
        for entry in entries.values():
            member = f"{folder}/{entry.get('path_name', '')}"
            if entry.get("path_name", "").startswith(_RAW_PREFIXES) and not entry.get("use_pickle", False):
                raw.add(member)
            elif not entry.get("path_name", "").startswith(_RAW_PREFIXES):
                objects.append(member)
    return raw, objects


def pickled_export_members(path: Path) -> list[str]:
    """Members of an export archive that only an unrestricted unpickler could load (empty when safe)."""
    with zipfile.ZipFile(path) as archive:
        raw, flagged = _raw_payloads(archive)
        for name in archive.namelist():
            base = name.rsplit("/", 1)[-1]
            if name in raw or name in flagged or name.endswith(".json") or base in _TEXT_MARKERS or name.endswith("/"):
                continue
            content = archive.read(name)
            if not content:
                continue
            try:
                torch.load(io.BytesIO(content), weights_only=True, map_location="cpu")
            except Exception:  # noqa: BLE001 - whatever the safe loader rejects needs trust
                flagged.append(name)
    return flagged
