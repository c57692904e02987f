"""``graphcurv analyze MODEL``: neural curvature of a trained model, its bottlenecks and communities, as a report."""

from __future__ import annotations

import hashlib
from pathlib import Path

import typer

from graphcurv_cli import ui
from graphcurv_cli.app import app, keep_on_stop, settings
from graphcurv_cli.execution import DistributedOption, SchedulerOption
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

CONCENTRATION_ROWS = 3  # neurons per layer in the printed table (the report keeps --top)


@app.command()
def analyze(
    model: ModelArgument,
    dataset: DatasetOption = "fashion-mnist",
    data_root: DataRootOption = None,
    per_class: int = typer.Option(
        2,
        "--per-class",
        "-k",
        help=(
            "Calibration inputs per class: correctly classified images from the val split. Scores after "
            "1, 2, 5 and 10 per class (those up to this value) are saved too. The default, 2, keeps a LeNet "
            "analysis well under a minute; -k 10 is the paper's setting (a few minutes on 2 cores)."
        ),
    ),
    alpha: float = typer.Option(0.9, "--alpha", help="Laziness of the measures: the mass each node keeps, in [0, 1)."),
    output: Path = typer.Option(
        None,
        "--output",
        "-o",
        help=(
            "Report folder: report.json, scores.csv, scores.pt (read by pruning), histograms.png, "
            "curvature_vs_weight.png. Written completely or not at all. Default: <model stem>-report."
        ),
        show_default=False,
    ),
    top: int = typer.Option(
        10, "--top", help="How many most negative edges, concentration neurons per layer and bridges to report."
    ),
    state: Path = typer.Option(
        None,
        "--state",
        help=(
            "File that saves the curvature run after every input, so an interrupted run resumes where it "
            "stopped. Default: a hidden file next to the report folder, named after the report, the model "
            "file and the options, removed once the report is written."
        ),
        show_default=False,
    ),
    communities: bool = typer.Option(
        True,
        "--communities/--no-communities",
        help="Find Ricci-flow communities of the units (linear layers) and channels (conv layers).",
    ),
    mean: bool = typer.Option(
        False, "--mean", help="Also report the mean of kappa_N over the inputs (solves every problem: slower)."
    ),
    exact: str = typer.Option(
        "edges",
        "--exact",
        help=(
            "edges: every edge's score is its exact minimum over the inputs. parameters: only the weights' "
            "scores (what pruning reads) and each weight's most negative edge are exact; other edges of a "
            "conv kernel weight may keep a certified lower bound. Several times faster on conv nets "
            "(VGG9-lite: use parameters)."
        ),
    ),
    workers: int = typer.Option(
        None, "--workers", help="Transport solver processes (default: one per CPU core).", show_default=False
    ),
    distributed: DistributedOption = False,
    scheduler: SchedulerOption = None,
    seed: int = typer.Option(
        None, "--seed", help="Seed of the calibration draw (default: the global --seed).", show_default=False
    ),
    arch: ArchOption = None,
    imports: ImportOption = None,
    trust_pickle: TrustPickleOption = False,
    activation: ActivationOption = None,
) -> None:
    """Neural curvature of every weight of a trained model over a calibration set, with its
    bottlenecks (negative-curvature edges) and communities, saved as a report folder.

    Example: graphcurv analyze model.pt --dataset fashion-mnist --per-class 10 -o report/
    """
    from graphcurv.analyses.model_analysis import analyze_model
    from graphcurv.errors import GraphcurvError
    from graphcurv.execution import execution

    if not 0 <= alpha < 1:
        raise GraphcurvError(f"--alpha must be in [0, 1), got {alpha}")
    if exact not in ("edges", "parameters"):
        raise GraphcurvError(f"--exact must be edges or parameters, got {exact!r}")
    if per_class < 1 or top < 0:
        raise GraphcurvError("--per-class must be at least 1 and --top at least 0")
    output = output if output is not None else Path(f"{model.stem}-report")
    if output.exists() and not output.is_dir():
        raise GraphcurvError(f"--output {output} exists and is not a folder")
    seed = settings().seed if seed is None else seed
    options = dict(
        dataset=dataset, data_root=str(data_root), per_class=per_class, alpha=alpha, seed=seed, arch=arch, mean=mean
    )
    if exact != "edges":  # the default keeps the keys of earlier runs
        options["exact"] = exact
    automatic_state = state is None
    if automatic_state:
        key = _run_key(model, {**options, "activation": activation})
        state = output.parent / f".{output.name}.curvature-state-{key}.pt"
    keep_on_stop(lambda: _kept_state(state))
    net = load_model_from_options(model, arch=arch, imports=imports, trust_pickle=trust_pickle, activation=activation)
    split = load_dataset_from_options(dataset, data_root, "val")
    with execution(scheduler=scheduler, workers=workers, distributed=distributed) as ex:
        analysis = analyze_model(
            net, split, per_class=per_class, alpha=alpha, seed=seed, top=top, communities=communities, output=output,
            state=state, keep_state=not automatic_state, workers=workers, mean=mean, exact=exact, device=settings().torch_device(),
            name=model.name, progress_bars=ui.progress_bar, executor=ex,
        )  # fmt: skip
    _print_tables(model.name, analysis.curvature, analysis.bottlenecks, analysis.communities)
    ui.console.print(f"wrote {output}/ ({', '.join(analysis.written)})")


def _kept_state(state: Path) -> str | None:
    """What an interrupted run keeps: the inputs its state file holds (``None``: none yet)."""
    from graphcurv.analyses.model_analysis import check_state_file

    done = check_state_file(state)
    return f"the curvature of {done} input{'s' * (done != 1)} in {state}" if done else None


def _run_key(model: Path, options: dict) -> str:
    """Identifies a run for resuming: the model file (path, size, modification time) and the options."""
    stat = model.stat() if model.exists() else None
    text = repr((str(model.resolve()), stat and stat.st_size, stat and stat.st_mtime_ns, sorted(options.items())))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _label(text: str) -> str:
    """A neuron label for a rich table: ``input[c0, 4, 1]`` is not markup."""
    from rich.markup import escape

    return escape(text)


def _percent(share: float) -> str:
    return "nan" if share != share else f"{100 * share:.1f}%"


def _print_tables(name: str, result, report, found) -> None:
    rows = [
        (f"{c.source} -> {c.target}", c.kind, c.edges, c.score.minimum, c.score.q1, c.score.median, c.score.q3,
         c.score.maximum, _percent(c.score.negative_share))
        for c in report.connections
    ]  # fmt: skip
    title = f"neural curvature of {name} (alpha {result.alpha}, {result.samples} inputs, {result.seconds:.1f} s)"
    columns = ["connection", "kind", "edges", "min", "Q1", "median", "Q3", "max", "negative"]
    ui.console.print(ui.table(title, columns, rows))
    ui.console.print("scores: min of kappa_N over the inputs (dead-neuron edges of a hidden source: 2.0)")
    rows = [
        (
            _label(e.source.label),
            _label(e.target.label),
            e.score,
            "-" if e.mean is None else e.mean,
            e.weight,
            e.source_activation,
            e.target_activation,
        )
        for e in report.most_negative
    ]
    columns = ["source", "target", "score", "mean", "weight", "a(source)", "a(target)"]
    ui.console.print(ui.table(f"{len(rows)} most negative edges", columns, rows))
    rows = [
        (layer.name, _label(n.neuron.label), n.negative_in, n.negative_out, n.degree_in + n.degree_out, n.activation)
        for layer in report.layers
        for n in layer.neurons[:CONCENTRATION_ROWS]
    ]
    columns = ["layer", "neuron", "negative in", "negative out", "edges", "activation"]
    ui.console.print(ui.table("where negative edges concentrate", columns, rows))
    if found is None:
        return
    rows = [
        (layer.name, layer.level, len(layer.labels), len(layer.counts),
         ", ".join(f"{c}: {n}" for c, n in list(layer.counts.items())[:4]) + (", ..." if len(layer.counts) > 4 else ""))
        for layer in found.layers
    ]  # fmt: skip
    title = (
        f"Ricci-flow communities: {found.num_communities} over {len(found.nodes)} units/channels "
        f"(modularity {found.modularity:.3f}, {found.seconds:.1f} s)"
    )
    ui.console.print(ui.table(title, ["layer", "level", "nodes", "communities", "largest (community: nodes)"], rows))
    rows = [
        (
            _label(b.source.label),
            _label(b.target.label),
            f"{b.source_community} - {b.target_community}",
            b.strength,
            b.flowed_length,
        )
        for b in found.bridges
    ]
    columns = ["source", "target", "communities", "summed |w|", "flowed length"]
    ui.console.print(ui.table(f"{len(rows)} bridges between communities", columns, rows))
