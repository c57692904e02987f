"""``graphcurv train ARCH --dataset NAME -o model.pt``: train a zoo model and save a graphcurv checkpoint."""

from __future__ import annotations

import time
from enum import Enum
from pathlib import Path

import typer

from graphcurv_cli import ui
from graphcurv_cli.app import app, settings
from graphcurv_cli.models import DataRootOption, DatasetOption, load_dataset_from_options


class Activation(str, Enum):
    relu = "relu"
    tanh = "tanh"


class Optimizer(str, Enum):
    adam = "adam"
    sgd = "sgd"


def _hidden_sizes(text: str | None, arch: str) -> dict:
    from graphcurv.errors import GraphcurvError

    if text is None:
        return {}
    if arch != "mlp":
        raise GraphcurvError("--hidden applies to the mlp only")
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise GraphcurvError(f"--hidden takes comma-separated layer sizes such as 300,100, got {text!r}") from exc
    return {"hidden": sizes}


@app.command()
def train(
    arch: str = typer.Argument(..., metavar="ARCH", help="Zoo architecture: mlp, lenet, vgg9-lite or resnet20."),
    output: Path = typer.Option(..., "--output", "-o", help="The checkpoint to write (.pt).", show_default=False),
    dataset: DatasetOption = "fashion-mnist",
    data_root: DataRootOption = None,
    epochs: int = typer.Option(10, "--epochs", "-e", help="Passes over the training split."),
    lr: float = typer.Option(1e-3, "--lr", help="Peak learning rate (cosine schedule down to 0)."),
    weight_decay: float = typer.Option(
        0.0, "--weight-decay", help="Weight decay (decoupled for adam = AdamW; classic for sgd). 0 = none."
    ),
    batch_size: int = typer.Option(128, "--batch-size", help="Images per step."),
    activation: Activation = typer.Option(Activation.relu, "--activation", help="Hidden-layer activation."),
    optimizer: Optimizer = typer.Option(Optimizer.adam, "--optimizer", help="adam (AdamW) or sgd (momentum 0.9)."),
    augment: bool = typer.Option(
        False, "--augment", help="Random crop (padding 4) and horizontal flip, as the paper does for CIFAR."
    ),
    hidden: str = typer.Option(
        None,
        "--hidden",
        metavar="SIZES",
        help="MLP hidden layer sizes, e.g. 300,100 (the default).",
        show_default=False,
    ),
) -> None:
    """Train a zoo model on the train split (first 90 %), report val accuracy per epoch and test accuracy.

    Example: graphcurv --seed 0 train lenet --dataset fashion-mnist --epochs 15 -o lenet.pt

    The val split is the last 10 % of the official training split; the test split is only used at the end.
    The checkpoint loads with torch.load(weights_only=True) and with every graphcurv model command.
    """
    from graphcurv.device import seed_everything
    from graphcurv.errors import GraphcurvError
    from graphcurv.models import build_model, count_weights, evaluate, normalise_arch, save_model, train_model

    if output.suffix not in {".pt", ".pth"}:
        raise GraphcurvError(f"--output must end in .pt, got {output.name!r}")
    key = normalise_arch(arch)
    train_set = load_dataset_from_options(dataset, data_root, "train")
    val_set = load_dataset_from_options(dataset, data_root, "val")
    test_set = load_dataset_from_options(dataset, data_root, "test")
    config = {
        "in_channels": train_set.in_channels,
        "image_size": train_set.image_size,
        "num_classes": train_set.num_classes,
        "activation": activation.value,
        **_hidden_sizes(hidden, key),
    }
    seed, device = settings().seed, settings().torch_device()
    seed_everything(seed)
    model = build_model(key, **config)
    ui.console.print(
        f"{key} ({count_weights(model):,} weights) on {train_set.name}: {len(train_set):,} train, "
        f"{len(val_set):,} val, {len(test_set):,} test images; {device}, seed {seed}"
    )
    last_val: list[float] = []
    started = time.perf_counter()
    with ui.progress_bar("training") as bar:

        def progress(done: int, total: int | None, desc: str = "") -> None:
            suffix = f" (val {last_val[-1]:.2%})" if last_val else ""
            bar(done, total, desc + suffix)

        history = train_model(
            model, train_set, epochs=epochs, lr=lr, weight_decay=weight_decay, batch_size=batch_size, seed=seed,
            device=device, progress=progress, val_set=val_set, optimizer=optimizer.value, augment=augment,
            on_epoch=lambda record: last_val.append(record.val_accuracy),
        )  # fmt: skip
    seconds = time.perf_counter() - started
    rows = [(r.epoch, r.train_loss, r.train_accuracy, r.val_accuracy, round(r.seconds, 1)) for r in history.epochs]
    columns = ["epoch", "train loss", "train accuracy", "val accuracy", "seconds"]
    ui.console.print(ui.table(f"training {key} on {train_set.name}", columns, rows))
    test_accuracy = evaluate(model, test_set, device=device)
    ui.console.print(f"test accuracy {test_accuracy:.4f} ({len(test_set):,} images), {seconds:.1f} s of training")
    metrics = {
        "dataset": train_set.name,
        "test_accuracy": test_accuracy,
        "val_accuracy": history.final.val_accuracy,
        "train_loss": history.final.train_loss,
        "epochs": epochs,
        "lr": lr,
        "weight_decay": weight_decay,
        "batch_size": batch_size,
        "optimizer": optimizer.value,
        "augment": augment,
        "seed": seed,
        "device": str(device),
        "train_seconds": seconds,
        "history": [[r.epoch, r.train_loss, r.train_accuracy, r.val_accuracy] for r in history.epochs],
    }
    save_model(model.cpu(), output, arch=key, config=config, metrics=metrics)
    ui.console.print(f"wrote {output} ({output.stat().st_size / 1024:.0f} KiB)")
