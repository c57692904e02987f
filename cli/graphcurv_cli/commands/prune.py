"""``graphcurv prune MODEL --ratio 0.8 -o pruned.pt``: prune a trained model by curvature or a baseline."""

from __future__ import annotations

import os
import time
from enum import Enum
from pathlib import Path

import typer

from graphcurv_cli import ui
from graphcurv_cli.app import app, settings
from graphcurv_cli.models import (
    ActivationOption,
    ArchOption,
    DataRootOption,
    ImportOption,
    ModelArgument,
    TrustPickleOption,
    load_dataset_from_options,
    load_model_from_options,
)

METHOD_HELP = (
    "curvature: remove the largest neural curvature first (the paper); curvature-negative: the most negative "
    "first (the control); extensions: curvature-magnitude (product of both ranks), curvature-iterative "
    "(prune-rescore rounds); magnitude (|w|), random, "
    "snip (|g w| on 10 examples per class), synflow (100 data-free iterations), synflow-linear (SynFlow with Tanh "
    "replaced by the identity, for Tanh networks)."
)
DATASET_HELP = (
    "Dataset for the calibration / prune set (val split) and the test accuracy before and after: fashion-mnist, "
    "mnist, cifar10, cifar100 (need --data-root) or digits. Default: the dataset the checkpoint was trained on."
)


class Method(str, Enum):
    curvature = "curvature"
    curvature_negative = "curvature-negative"
    curvature_magnitude = "curvature-magnitude"
    curvature_iterative = "curvature-iterative"
    magnitude = "magnitude"
    random = "random"
    snip = "snip"
    synflow = "synflow"
    synflow_linear = "synflow-linear"


class Scope(str, Enum):
    global_ = "global"
    layer = "layer"


def check_output(model: Path, output: Path) -> None:
    """Refuse an output in another format than the model's (.pt, or .pt2 for a torch.export archive) or
    that is the input model itself."""
    from graphcurv.errors import GraphcurvError
    from graphcurv.pruning.saving import output_suffixes, source_kind

    suffixes = output_suffixes(model)
    if output.suffix not in suffixes:
        if source_kind(model) == "export":
            raise GraphcurvError(
                f"--output must end in .pt2: a torch.export archive is pruned into one, got {output.name!r}"
            )
        raise GraphcurvError(f"--output must end in {suffixes[0]}, got {output.name!r}")
    same = output.resolve() == model.resolve()
    if not same and output.exists() and model.exists():
        same = os.path.samefile(output, model)
    if same:
        raise GraphcurvError(f"--output {output} is the input model: write the pruned model to another file")


def percent(share: float) -> str:
    return f"{100 * share:.1f}%"


@app.command()
def prune(
    model: ModelArgument,
    ratio: float = typer.Option(
        ..., "--ratio", "-r", help="Share of prunable weights to remove, in [0, 1).", show_default=False
    ),
    output: Path = typer.Option(
        ...,
        "--output",
        "-o",
        help="The pruned model to write (.pt; .pt2 for a torch.export archive); never the input.",
        show_default=False,
    ),
    method: Method = typer.Option(Method.curvature, "--method", "-m", help=METHOD_HELP),
    scope: Scope = typer.Option(
        Scope.global_, "--scope", help="global: rank all weights together; layer: every layer loses the same share."
    ),
    scores: Path = typer.Option(
        None,
        "--scores",
        help="Curvature scores (scores.pt from `graphcurv analyze`) instead of computing them.",
        show_default=False,
    ),
    per_class: int = typer.Option(
        None,
        "--per-class",
        "-k",
        help="Examples per class for curvature's calibration "
        "set and SNIP's prune set (default 10); with --scores: the file's scores after this "
        "many (default: its final scores).",
        show_default=False,
    ),
    alpha: float = typer.Option(0.9, "--alpha", help="Laziness of the curvature measures, in [0, 1)."),
    iterations: int = typer.Option(100, "--iterations", help="SynFlow's iterations."),
    rounds: int = typer.Option(2, "--rounds", help="Prune-rescore rounds of curvature-iterative."),
    finetune: int = typer.Option(0, "--finetune", help="Epochs of fine-tuning after pruning (masks kept), 0 = none."),
    lr: float = typer.Option(1e-3, "--lr", help="Fine-tuning peak learning rate (cosine schedule)."),
    dataset: str = typer.Option(None, "--dataset", "-d", metavar="NAME", help=DATASET_HELP, show_default=False),
    data_root: DataRootOption = None,
    workers: int = typer.Option(
        None, "--workers", help="Curvature solver processes (default: one per core).", show_default=False
    ),
    arch: ArchOption = None,
    imports: ImportOption = None,
    trust_pickle: TrustPickleOption = False,
    activation: ActivationOption = None,
) -> None:
    """Prune a trained model and write it as an ordinary model with exact zeros (no masks or hooks).

    Example: graphcurv prune model.pt --ratio 0.8 --method curvature -o pruned.pt
    """
    from graphcurv.errors import GraphcurvError
    from graphcurv.models import evaluate
    from graphcurv.models.validation import check_model_and_data
    from graphcurv.pruning import check_ratio, load_curvature_scores, mask_summary, prune_masks, pruned_copy, score
    from graphcurv.pruning.finetune import check_trainable
    from graphcurv.pruning.saving import input_shape, recorded_checkpoint, save_pruned, zoo_config

    ratio = check_ratio(ratio)
    check_output(model, output)
    if finetune < 0:
        raise GraphcurvError(f"--finetune is a number of epochs (>= 0), got {finetune}")
    net = load_model_from_options(model, arch=arch, imports=imports, trust_pickle=trust_pickle, activation=activation)
    if finetune:
        check_trainable(net)
    checkpoint = recorded_checkpoint(model)
    zoo = zoo_config(net, checkpoint)
    if zoo is not None and activation:
        zoo[1]["activation"] = activation
    dataset = dataset or (checkpoint or {}).get("metrics", {}).get("dataset")
    if finetune and dataset is None:
        raise GraphcurvError("--finetune needs a dataset: pass --dataset")
    val = load_dataset_from_options(dataset, data_root, "val") if dataset else None
    test = load_dataset_from_options(dataset, data_root, "test") if dataset else None
    check_model_and_data(net, val)  # NaN weights, a dataset of another shape: refused before any scoring
    curvature = None
    if scores is not None:
        if not method.value.startswith("curvature"):
            raise GraphcurvError(f"--scores holds curvature scores; it does not apply to --method {method.value}")
        curvature = load_curvature_scores(scores, per_class=per_class)
    if method in (Method.synflow, Method.synflow_linear) and input_shape(zoo, val) is None:
        raise GraphcurvError("SynFlow feeds an all-ones input of the data's shape: pass --dataset")
    started = time.perf_counter()
    with ui.progress_bar(f"{method.value} scores") as progress:
        values = score(
            net,
            method=method.value,
            data=val,
            ratio=ratio,
            scope=scope.value,
            curvature=curvature,
            per_class=per_class or 10,
            alpha=alpha,
            seed=settings().seed,
            iterations=iterations,
            rounds=rounds,
            input_shape=input_shape(zoo, val),
            workers=workers,
            progress=progress,
        )
    masks = prune_masks(values, ratio, scope=scope.value)
    pruned = pruned_copy(net, masks)
    seconds = time.perf_counter() - started
    rows = [(name, weights, removed, percent(share)) for name, weights, removed, share in mask_summary(masks)]
    title = f"{model.name} pruned by {method.value} ({scope.value}, ratio {ratio:g}, {seconds:.1f} s)"
    ui.console.print(ui.table(title, ["layer", "weights", "removed", "share"], rows))
    metrics = {
        "pruning": {
            "source": model.name,
            "method": method.value,
            "ratio": ratio,
            "scope": scope.value,
            "removed": rows[-1][2],
            "seed": settings().seed,
        }
    }
    if test is not None:
        before, after = evaluate(net, test), evaluate(pruned, test)
        ui.console.print(f"test accuracy ({len(test):,} {test.name} images): {before:.4f} dense, {after:.4f} pruned")
        metrics.update(test_accuracy=after, dense_test_accuracy=before)
    if finetune:
        from graphcurv.pruning import finetune_pruned

        train = load_dataset_from_options(dataset, data_root, "train")
        with ui.progress_bar("fine-tuning") as progress:
            pruned = finetune_pruned(net, masks, train, epochs=finetune, lr=lr, seed=settings().seed, progress=progress)
        tuned = evaluate(pruned, test)
        ui.console.print(f"after {finetune} epochs of fine-tuning: test accuracy {tuned:.4f}")
        metrics.update(test_accuracy=tuned, pruned_test_accuracy=metrics["test_accuracy"])
        metrics["pruning"].update(finetune_epochs=finetune, finetune_lr=lr)
    written = save_pruned(pruned, output, source=model, zoo=zoo, checkpoint=checkpoint, metrics=metrics)
    ui.console.print(f"wrote {output} ({written}; {rows[-1][2]:,} of {rows[-1][1]:,} prunable weights removed)")
