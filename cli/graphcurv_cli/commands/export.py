"""``graphcurv export MODEL``: the neural graph of a trained model over a calibration set, saved as .pt."""

from __future__ import annotations

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
    DatasetOption,
    ImportOption,
    ModelArgument,
    TrustPickleOption,
    load_dataset_from_options,
    load_model_from_options,
)

_STORED = {"materialised": "yes", "implicit": "no", "mixed": "partly", "-": "-"}


class BatchNorm(str, Enum):
    ignore = "ignore"
    fold = "fold"


def human_bytes(count: float) -> str:
    """``1536`` -> ``'1.5 KiB'``."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} GiB"  # pragma: no cover - the loop always returns


@app.command()
def export(
    model: ModelArgument,
    output: Path = typer.Option(
        None, "--output", "-o", help="Write the graph (a PyG Data, .pt); without it only the summary is shown."
    ),
    dataset: DatasetOption = "fashion-mnist",
    data_root: DataRootOption = None,
    per_class: int = typer.Option(
        10, "--per-class", "-k", help="Calibration inputs per class: correctly classified, from the val split."
    ),
    batchnorm: BatchNorm = typer.Option(
        BatchNorm.ignore,
        "--batchnorm",
        help="ignore: BatchNorm is not in the edges (the paper's graph); fold: fold it into the preceding weights.",
    ),
    max_edges: int = typer.Option(
        None,
        "--max-edges",
        help="Most edges to store; larger conv layers stay implicit (generated on demand). Default 10,000,000.",
        show_default=False,
    ),
    raw: bool = typer.Option(False, "--raw", help="Also store the un-normalised activations (raw_activation)."),
    seed: int = typer.Option(
        None, "--seed", help="Seed of the calibration draw (default: the global --seed).", show_default=False
    ),
    arch: ArchOption = None,
    imports: ImportOption = None,
    trust_pickle: TrustPickleOption = False,
    activation: ActivationOption = None,
) -> None:
    """Export a trained model to its neural graph: one node per neuron, one edge per weight use,
    node activations over k correctly classified inputs per class.

    Example: graphcurv export model.pt --dataset fashion-mnist --per-class 10 -o graph.pt
    """
    from graphcurv.datasets import calibration_set
    from graphcurv.errors import GraphcurvError
    from graphcurv.graphs import save_graph
    from graphcurv.models.validation import check_model_and_data
    from graphcurv.neural import DEFAULT_MAX_EDGES, export_summary
    from graphcurv.neural import export as export_graph
    from graphcurv.neural.summary import graph_bytes

    if output is not None and output.suffix != ".pt":
        raise GraphcurvError(f"--output must end in .pt, got {output.name!r}")
    seed = settings().seed if seed is None else seed
    net = load_model_from_options(model, arch=arch, imports=imports, trust_pickle=trust_pickle, activation=activation)
    split = load_dataset_from_options(dataset, data_root, "val")
    check_model_and_data(net, split)  # NaN weights, a dataset of another shape: refused before any work
    started = time.perf_counter()
    with ui.progress_bar("calibration set") as progress:
        inputs, labels = calibration_set(net, split, per_class, seed=seed, progress=progress)
    with ui.progress_bar("neural graph") as progress:
        graph = export_graph(
            net,
            inputs,
            batchnorm=batchnorm.value,
            max_edges=DEFAULT_MAX_EDGES if max_edges is None else max_edges,
            raw_activation=raw,
            progress=progress,
        )
    seconds = time.perf_counter() - started
    graph.name = model.name
    graph.calibration_labels = labels
    graph.calibration = {"dataset": split.name, "split": split.split, "per_class": per_class, "seed": seed}
    rows = export_summary(graph)
    table_rows = [
        (r.name, r.kind if r.activation == "identity" else f"{r.kind}+{r.activation}",
         "x".join(map(str, r.shape)) or "1", r.nodes, r.edges, _STORED[r.form], human_bytes(r.memory_bytes))
        for r in rows
    ]  # fmt: skip
    stored, total = graph.edge_index.size(1), sum(r.edges for r in rows)
    table_rows.append(("total", "", "", int(graph.num_nodes), total, "", human_bytes(graph_bytes(graph))))
    title = f"neural graph of {model.name} ({len(inputs)} inputs, {seconds:.1f} s)"
    ui.console.print(ui.table(title, ["layer", "kind", "shape", "nodes", "edges", "stored", "memory"], table_rows))
    ui.console.print(
        f"{per_class} correctly classified {split.name} {split.split} inputs per class; BatchNorm "
        f"{batchnorm.value}; {stored:,} of {total:,} edges stored (the rest are generated on demand)"
    )
    if output is not None:
        save_graph(graph, output)
        ui.console.print(f"wrote {output}")
