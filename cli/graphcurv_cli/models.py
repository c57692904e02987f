"""Options every model command shares (MODEL, --arch, --import, --trust-pickle, --dataset, --data-root).

Commands declare them with the annotated types below and call
:func:`load_model_from_options` / :func:`load_dataset_from_options`::

    @app.command()
    def export(model: ModelArgument, arch: ArchOption = None, imports: ImportOption = None,
               trust_pickle: TrustPickleOption = False, activation: ActivationOption = None,
               dataset: DatasetOption = "fashion-mnist", data_root: DataRootOption = None): ...

Only typer is imported here; torch and graphcurv load when a command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

MODEL_HELP = (
    "The trained model: a graphcurv checkpoint (from `graphcurv train`), a state_dict saved with "
    "torch.save(model.state_dict()) (needs --arch), a .pt2 torch.export archive, TorchScript, or a "
    "whole pickled model from torch.save(model) (needs --trust-pickle)."
)
ARCH_HELP = (
    "Zoo architecture of a bare state_dict: mlp, lenet, vgg9-lite or resnet20 (layer sizes are read from the "
    "weights). Not needed for graphcurv checkpoints, .pt2 or pickled models."
)
IMPORT_HELP = (
    "Python module to import before loading (a module name or a path to a .py file), so the classes of "
    "a pickled model resolve; repeatable. Classes pickled from a script (__main__.Net) are found in it."
)
TRUST_PICKLE_HELP = (
    "Allow loading a whole pickled model (torch.save(model)). Unpickling runs Python code stored in the "
    "file, so a malicious file could do anything your account can: use it only for files you trust. "
    "Checkpoints, state_dicts and .pt2 archives load without it (weights_only, no code runs)."
)
ACTIVATION_HELP = (
    "Activation of a bare state_dict's zoo architecture (relu or tanh): weights do not record it. "
    "Default: relu, or what a graphcurv checkpoint stores."
)
DATASET_HELP = (
    "Dataset: fashion-mnist (Debian's files in /usr/share/datasets/fashion-mnist unless --data-root), "
    "mnist, cifar10, cifar100 (need --data-root) or digits (scikit-learn)."
)
DATA_ROOT_HELP = (
    "Directory with the dataset's files: the four IDX files (gz or raw) for mnist/fashion-mnist, the "
    "python batches (data_batch_1..5, test_batch; or train, test) for cifar10/cifar100."
)

ModelArgument = Annotated[Path, typer.Argument(metavar="MODEL", help=MODEL_HELP, show_default=False)]
ArchOption = Annotated[str | None, typer.Option("--arch", help=ARCH_HELP, show_default=False)]
ImportOption = Annotated[
    list[str] | None, typer.Option("--import", metavar="MODULE", help=IMPORT_HELP, show_default=False)
]
TrustPickleOption = Annotated[bool, typer.Option("--trust-pickle", help=TRUST_PICKLE_HELP)]
ActivationOption = Annotated[
    str | None, typer.Option("--activation", metavar="relu|tanh", help=ACTIVATION_HELP, show_default=False)
]
DatasetOption = Annotated[str, typer.Option("--dataset", "-d", metavar="NAME", help=DATASET_HELP)]
DataRootOption = Annotated[Path | None, typer.Option("--data-root", help=DATA_ROOT_HELP, show_default=False)]


def load_model_from_options(
    model: Path,
    *,
    arch: str | None = None,
    imports: list[str] | None = None,
    trust_pickle: bool = False,
    activation: str | None = None,
    device=None,
):
    """The model the shared options name, on ``device`` (default: the global ``--device``), in eval mode."""
    from graphcurv.models import load_model
    from graphcurv_cli.app import settings

    config = {"activation": activation} if activation else {}
    target = device if device is not None else settings().torch_device()
    return load_model(
        model, arch=arch, imports=tuple(imports or ()), trust_pickle=trust_pickle, device=target, **config
    )


def load_dataset_from_options(dataset: str, data_root: Path | None, split: str = "test"):
    """One split of the dataset the shared options name (an ``ImageDataset``)."""
    from graphcurv.datasets import load_dataset

    return load_dataset(dataset, split=split, root=data_root)
