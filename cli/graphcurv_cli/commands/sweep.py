"""``graphcurv sweep MODEL``: one-shot accuracy against the share removed for every pruning method."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from graphcurv_cli import ui
from graphcurv_cli.app import app, settings
from graphcurv_cli.commands.prune import DATASET_HELP
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

DEFAULT_METHODS = "curvature,curvature-negative,magnitude,random,snip,synflow"
DEFAULT_RATIOS = "0,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,0.95,0.98"


def parse_list(text: str, option: str) -> list[str]:
    from graphcurv.errors import GraphcurvError

    items = [part.strip() for part in str(text).split(",") if part.strip()]
    if not items:
        raise GraphcurvError(f"{option} takes a comma-separated list, got {text!r}")
    return items


def parse_ratios(text: str) -> list[float]:
    from graphcurv.errors import GraphcurvError
    from graphcurv.pruning import check_ratio

    try:
        values = [float(item) for item in parse_list(text, "--ratios")]
    except ValueError as exc:
        raise GraphcurvError(
            f"--ratios takes comma-separated numbers in [0, 1) such as 0,0.5,0.9, got {text!r}"
        ) from exc
    return [check_ratio(value) for value in values]


def _accuracy_at(curve, ratio):
    return next((p.accuracy for p in curve if p.ratio == ratio), float("nan"))


def headline_rows(result, finetuned: bool = False) -> list[tuple]:
    rows = []
    for method in result.methods:
        curve = result.curve(method)
        best = result.headline(method)
        row = [
            method,
            "-" if best is None else f"{best:g}",
            "-" if best is None else _accuracy_at(curve, best),
            curve[-1].accuracy,
        ]
        if finetuned:
            tuned = result.headline(method, finetuned=True)
            row += ["-" if tuned is None else f"{tuned:g}", curve[-1].finetuned_accuracy]
        rows.append(tuple(row))
    return rows


@app.command()
def sweep(
    model: ModelArgument,
    methods: str = typer.Option(
        DEFAULT_METHODS,
        "--methods",
        help="Comma-separated pruning methods (see `graphcurv prune --help`; curvature-magnitude is the extension).",
    ),
    ratios: str = typer.Option(DEFAULT_RATIOS, "--ratios", help="Comma-separated shares of weights removed."),
    output: Path = typer.Option(
        None,
        "--output",
        "-o",
        help="Folder for sweep.csv, sweep.png (and per_layer.csv, per_layer.png). Default: <model stem>-sweep.",
        show_default=False,
    ),
    scores: Path = typer.Option(
        None,
        "--scores",
        help="Curvature scores (scores.pt from `graphcurv analyze`), computed once otherwise.",
        show_default=False,
    ),
    per_class: int = typer.Option(
        None,
        "--per-class",
        "-k",
        help="Examples per class for curvature and SNIP "
        "(default 10); with --scores: the file's scores after this many.",
        show_default=False,
    ),
    alpha: float = typer.Option(0.9, "--alpha", help="Laziness of the curvature measures, in [0, 1)."),
    scope: str = typer.Option("global", "--scope", help="global or layer."),
    finetune: int = typer.Option(0, "--finetune", help="Also fine-tune every pruned model this many epochs."),
    lr: float = typer.Option(1e-3, "--lr", help="Fine-tuning peak learning rate."),
    per_layer: bool = typer.Option(
        False, "--per-layer", help="Also prune one layer at a time (rest intact) with --layer-methods, and plot it."
    ),
    layer_methods: str = typer.Option("curvature,magnitude", "--layer-methods", help="Methods of --per-layer."),
    dataset: str = typer.Option(None, "--dataset", "-d", metavar="NAME", help=DATASET_HELP, show_default=False),
    data_root: DataRootOption = None,
    workers: int = typer.Option(None, "--workers", help="Curvature solver processes.", show_default=False),
    arch: ArchOption = None,
    imports: ImportOption = None,
    trust_pickle: TrustPickleOption = False,
    activation: ActivationOption = None,
) -> None:
    """The paper's protocol: prune once per method and ratio (no fine-tuning), test accuracy on the full test
    set; writes a CSV, a plot and the headline (largest ratio within 1 point of the dense accuracy).

    Example: graphcurv sweep model.pt --scores report/scores.pt --ratios 0,0.5,0.8,0.9 -o sweep/
    """
    from graphcurv.errors import GraphcurvError
    from graphcurv.models.validation import check_model_and_data
    from graphcurv.pruning import load_curvature_scores, normalise_method, pruning_sweep, write_sweep_csv
    from graphcurv.pruning.plots import plot_sweep
    from graphcurv.pruning.saving import input_shape, recorded_checkpoint, zoo_config

    names = [normalise_method(m) for m in parse_list(methods, "--methods")]
    grid = parse_ratios(ratios)
    if finetune < 0:
        raise GraphcurvError(f"--finetune is a number of epochs (>= 0), got {finetune}")
    output = output if output is not None else Path(f"{model.stem}-sweep")
    if output.exists() and not output.is_dir():
        raise GraphcurvError(f"--output {output} exists and is not a folder")
    net = load_model_from_options(model, arch=arch, imports=imports, trust_pickle=trust_pickle, activation=activation)
    checkpoint = recorded_checkpoint(model)
    dataset = dataset or (checkpoint or {}).get("metrics", {}).get("dataset")
    if dataset is None:
        raise GraphcurvError("a sweep measures test accuracy: pass --dataset")
    val, test = (load_dataset_from_options(dataset, data_root, split) for split in ("val", "test"))
    check_model_and_data(net, val)  # NaN weights, a dataset of another shape: refused before any pruning
    train = load_dataset_from_options(dataset, data_root, "train") if finetune else None
    curvature = load_curvature_scores(scores, per_class=per_class) if scores is not None else None
    options = dict(
        curvature=curvature,
        per_class=per_class or 10,
        alpha=alpha,
        seed=settings().seed,
        input_shape=input_shape(zoo_config(net, checkpoint), val),
        workers=workers,
    )
    started = time.perf_counter()
    with ui.progress_bar("pruning sweep") as progress:
        result = pruning_sweep(
            net,
            test,
            methods=names,
            ratios=grid,
            data=val,
            scope=scope,
            finetune_epochs=finetune,
            train_set=train,
            finetune_lr=lr,
            progress=progress,
            **options,
        )
    seconds = time.perf_counter() - started
    columns = ["method", "largest ratio within 1 point", "accuracy there", f"accuracy at {grid[-1]:g}"]
    if finetune:
        columns += ["fine-tuned: largest ratio", f"fine-tuned at {grid[-1]:g}"]
    title = f"{model.name}: dense test accuracy {result.dense_accuracy:.4f} ({scope} scope, {seconds:.0f} s)"
    ui.console.print(ui.table(title, columns, headline_rows(result, bool(finetune))))
    written = [
        write_sweep_csv(output / "sweep.csv", result),
        plot_sweep(output / "sweep.png", result, title=f"{model.name}: one-shot pruning"),
    ]
    if per_layer:
        written += _per_layer(net, test, val, layer_methods, grid, options, output, model.name)
    ui.console.print(f"wrote {', '.join(str(p) for p in written)}")


def _per_layer(net, test, val, layer_methods, grid, options, output: Path, name: str) -> list[Path]:
    from graphcurv.pruning import normalise_method
    from graphcurv.pruning.per_layer import per_layer_sweep, write_per_layer_csv
    from graphcurv.pruning.plots import plot_per_layer

    names = [normalise_method(m) for m in parse_list(layer_methods, "--layer-methods")]
    with ui.progress_bar("per-layer pruning") as progress:
        result = per_layer_sweep(net, test, ratios=grid, methods=names, data=val, progress=progress, **options)
    rows = [(layer, *(_headline_text(result.headline(layer, m)) for m in names)) for layer in result.layers]
    columns = ["layer alone", *(f"{m}: largest ratio" for m in names)]
    ui.console.print(ui.table("per-layer pruning (largest share of the layer within 1 point)", columns, rows))
    return [
        write_per_layer_csv(output / "per_layer.csv", result),
        plot_per_layer(output / "per_layer.png", result, title=f"{name}: one layer pruned at a time"),
    ]


def _headline_text(value) -> str:
    return "-" if value is None else f"{value:g}"
