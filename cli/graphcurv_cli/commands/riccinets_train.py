"""``graphcurv riccinets train MODEL.pt -o trained.pt``: train a RandWire checkpoint from scratch or further."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from graphcurv_cli import ui
from graphcurv_cli.app import settings
from graphcurv_cli.commands.riccinets import (
    BatchOption,
    DecayOption,
    EpochsOption,
    LrOption,
    TrainSizeOption,
    check_positive,
    riccinets_app,
)
from graphcurv_cli.models import DataRootOption

DATASET_HELP = (
    "Dataset to train on (train split) and test on (test split): fashion-mnist, mnist, cifar10, cifar100 (need "
    "--data-root) or digits. Default: the dataset recorded by `riccinets prune`, else fashion-mnist."
)


def check_output(model: Path, output: Path) -> None:
    """Refuse an output that is not a .pt file or that is the input checkpoint itself."""
    import os

    from graphcurv.errors import GraphcurvError

    if output.suffix.lower() != ".pt":
        raise GraphcurvError(f"--output must end in .pt, got {output.name!r}")
    same = output.resolve() == model.resolve() or (
        output.exists() and model.exists() and os.path.samefile(output, model)
    )
    if same:
        raise GraphcurvError(f"--output {output} is the input model: write the trained model to another file")


def check_matches(net, config: dict, data, model: Path) -> None:
    """Refuse a dataset whose images or classes differ from those the RandWire was built for."""
    from graphcurv.errors import GraphcurvError

    built = (net.in_channels, int(config.get("image_size", data.image_size)), net.num_classes)
    have = (data.in_channels, data.image_size, data.num_classes)
    if built != have:
        raise GraphcurvError(
            f"{model} was built for {built[0]}x{built[1]}x{built[1]} images and {built[2]} classes; {data.name} has "
            f"{have[0]}x{have[1]}x{have[1]} images and {have[2]} classes (prune again with --dataset {data.name})"
        )


@riccinets_app.command()
def train(
    model: Path = typer.Argument(
        ..., metavar="MODEL", help="A RandWire checkpoint (from `graphcurv riccinets prune`).", show_default=False
    ),
    output: Path = typer.Option(
        ..., "--output", "-o", help="The trained checkpoint to write (.pt); never the input.", show_default=False
    ),
    dataset: str = typer.Option(None, "--dataset", "-d", metavar="NAME", help=DATASET_HELP, show_default=False),
    data_root: DataRootOption = None,
    epochs: EpochsOption = 2,
    lr: LrOption = 0.05,
    weight_decay: DecayOption = 5e-4,
    batch_size: BatchOption = 128,
    train_size: TrainSizeOption = None,
) -> None:
    """Train a RandWire checkpoint (SGD) on the train split and report top-1 test accuracy, parameters and FLOPs.

    Training continues from the checkpoint's weights (untrained for a fresh `riccinets prune` output); batch order
    follows --seed. FLOPs are per forward pass of one image (a multiply-accumulate counts 2).

    Example: graphcurv --seed 0 riccinets train net.pt --dataset fashion-mnist --epochs 4 -o trained.pt
    """
    from graphcurv.datasets import load_dataset
    from graphcurv.errors import GraphcurvError
    from graphcurv.models import load_checkpoint, load_model, save_model
    from graphcurv.riccinets.network import randwire_config
    from graphcurv.riccinets.pipeline import TrainSettings, network_stats, train_and_test

    check_output(model, output)
    check_positive(epochs=epochs, lr=lr, weight_decay=weight_decay, batch_size=batch_size, train_size=train_size)
    checkpoint = load_checkpoint(model)
    if checkpoint.get("arch") != "randwire":
        raise GraphcurvError(
            f"{model} holds a {checkpoint.get('arch')} model, not a RandWire: write one with `graphcurv riccinets "
            "prune` (other models train with `graphcurv train`)"
        )
    recorded = dict(checkpoint.get("metrics", {}))
    name = dataset or recorded.get("riccinets", {}).get("dataset") or "fashion-mnist"
    net = load_model(model)
    train_set = load_dataset(name, split="train", root=data_root)
    test_set = load_dataset(name, split="test", root=data_root)
    check_matches(net, checkpoint.get("config", {}), test_set, model)
    device = settings().torch_device()
    run = TrainSettings(epochs, lr, weight_decay, batch_size, train_size, settings().seed, str(device))
    used = min(len(train_set), train_size) if train_size else len(train_set)
    ui.console.print(f"RandWire on {test_set.name}: {used:,} train, {len(test_set):,} test images; {device}")
    started = time.perf_counter()
    with ui.progress_bar("training") as bar:
        accuracy = train_and_test(net, train_set, test_set, run, progress=bar)
    seconds = time.perf_counter() - started
    stats = network_stats(net, test_set)
    rows = [("test accuracy", accuracy), ("parameters", stats.parameters), ("FLOPs (one image)", stats.flops),
            ("nodes", stats.nodes), ("edges", stats.edges), ("training seconds", round(seconds, 1))]  # fmt: skip
    ui.console.print(ui.table(f"trained RandWire on {test_set.name}", ["", "value"], rows))
    ui.console.print(f"test accuracy {accuracy:.4f} ({len(test_set):,} images)")
    metrics = {
        **recorded, "dataset": test_set.name, "test_accuracy": accuracy, "epochs": epochs, "lr": lr,
        "weight_decay": weight_decay, "batch_size": batch_size, "train_size": used, "optimizer": "sgd",
        "seed": settings().seed, "device": str(device), "train_seconds": seconds, "parameters": stats.parameters,
        "flops": stats.flops,
    }  # fmt: skip
    config = randwire_config(net, image_size=test_set.image_size)
    save_model(net.cpu(), output, arch="randwire", config=config, metrics=metrics)
    ui.console.print(f"wrote {output} ({output.stat().st_size / 1024:.0f} KiB)")
