"""``graphcurv riccinets prune|train|search|compare``: RicciNets, Ricci-flow pruning of random networks.

This module holds the sub-app, the options every RicciNets command shares and ``prune``;
``train`` is in :mod:`riccinets_train`, ``search`` and ``compare`` in :mod:`riccinets_search`;
writing the pruned network and drawing the stages are library functions
(:mod:`graphcurv.riccinets.saving`, :mod:`graphcurv.riccinets.drawing`).
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from graphcurv_cli import ui
from graphcurv_cli.app import app, settings
from graphcurv_cli.models import DataRootOption, DatasetOption

riccinets_app = typer.Typer(
    help=(
        "RicciNets (Glass et al.): prune the random stage graphs of a randomly wired network (RandWire) by "
        "Ricci flow before training, train it, search the node-mass hyperparameters, compare with "
        "lowest-magnitude pruning."
    ),
    no_args_is_help=True,
)
app.add_typer(riccinets_app, name="riccinets")


class Generator(str, Enum):
    ws = "ws"
    er = "er"
    ba = "ba"


class Dangling(str, Enum):
    isolated = "isolated"
    remove = "remove"
    repair = "repair"


GRAPH_OPTIONS = ("generator", "n", "k", "p", "m", "stages")
GraphsOption = Annotated[
    Path | None,
    typer.Option(
        "--graphs",
        help="Stage graphs written by `graphcurv riccinets prune --save-graphs` (instead of drawing new ones "
        "with the generator options).",
        show_default=False,
    ),
]
GeneratorOption = Annotated[
    Generator,
    typer.Option(
        "--generator", help="Random graph per stage: ws (Watts-Strogatz), er (Erdos-Renyi), ba (Barabasi-Albert)."
    ),
]
NodesOption = Annotated[int, typer.Option("--n", help="Nodes per stage graph (paper: 32).")]
RingOption = Annotated[int, typer.Option("--k", help="Watts-Strogatz: ring-lattice degree K, even (paper: 4).")]
ProbabilityOption = Annotated[
    float, typer.Option("--p", help="Watts-Strogatz rewiring / Erdos-Renyi edge probability, in [0, 1].")
]
AttachOption = Annotated[int, typer.Option("--m", help="Barabasi-Albert: edges of every new node.")]
StagesOption = Annotated[int, typer.Option("--stages", help="Random stages (stage i has 2^i C channels).")]
AlphaOption = Annotated[float, typer.Option("--alpha", help="Node mass kept by the node itself (laziness), [0, 1].")]
BetaOption = Annotated[float, typer.Option("--beta", help="Weight of 1/degree in a neighbour's mass (>= 0).")]
GammaOption = Annotated[float, typer.Option("--gamma", help="Weight of the in-degree in a neighbour's mass (>= 0).")]
DeltaOption = Annotated[
    float, typer.Option("--delta", help="Weight of out-degree / in-degree in a neighbour's mass (>= 0).")
]
IterationsOption = Annotated[
    int, typer.Option("--iterations", help="Most Ricci-flow iterations per stage (stops once the spread < 1e-4).")
]
DanglingOption = Annotated[
    Dangling,
    typer.Option(
        "--dangling",
        help="Nodes that lose all inputs or outputs: isolated (drop nodes left with no edge, reconnect the rest "
        "to the stage input/output), remove (drop them, repeatedly), repair (keep every node).",
    ),
]
ChannelsOption = Annotated[int, typer.Option("--channels", help="Channels C of the first stage (paper: 78).")]
HeadOption = Annotated[int, typer.Option("--head-channels", help="Channels of the final 1x1 conv (paper: 1280).")]
EpochsOption = Annotated[int, typer.Option("--epochs", "-e", help="Training passes over the train split.")]
LrOption = Annotated[float, typer.Option("--lr", help="Peak SGD learning rate (momentum 0.9, cosine schedule).")]
DecayOption = Annotated[float, typer.Option("--weight-decay", help="SGD weight decay (0 = none).")]
BatchOption = Annotated[int, typer.Option("--batch-size", help="Images per training step.")]
TrainSizeOption = Annotated[
    int | None, typer.Option("--train-size", help="Train on the first N images of the train split (unset: all).")
]


def given(ctx: typer.Context, name: str) -> bool:
    """Whether the option behind parameter ``name`` was set by the user (not left at its default)."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name in ("COMMANDLINE", "ENVIRONMENT", "PROMPT")


def load_stage_graphs(ctx: typer.Context, graphs_file: Path | None, generator: Generator, n: int, k: int, p: float,
                      m: int, stages: int) -> tuple[list, dict]:  # fmt: skip
    """The stage graphs (from ``--graphs`` or drawn with ``--seed``) and a plain record of where they came from."""
    from graphcurv.errors import GraphcurvError
    from graphcurv.riccinets.wiring import load_graphs, stage_graphs

    if graphs_file is not None:
        clash = [f"--{name}" for name in GRAPH_OPTIONS if given(ctx, name)]
        if clash:
            raise GraphcurvError(f"--graphs replaces the generator options: drop {', '.join(clash)}")
        return load_graphs(graphs_file), {"graphs": str(graphs_file)}
    seed = settings().seed
    graphs = stage_graphs(stages, n, generator.value, k=k, p=p, m=m, seed=seed)
    return graphs, {"generator": generator.value, "n": n, "k": k, "p": p, "m": m, "stages": stages, "seed": seed}


def hyperparameters(alpha: float, beta: float, gamma: float, delta: float) -> dict[str, float]:
    """The node-mass hyperparameters, checked (alpha in [0, 1], the others >= 0)."""
    from graphcurv.riccinets.mass import check_hyperparameters

    return check_hyperparameters(alpha=alpha, beta=beta, gamma=gamma, delta=delta)


def check_positive(**values: int | float | None) -> None:
    """Every named value (``None`` skipped) must be > 0; ``weight_decay`` may be 0."""
    from graphcurv.errors import GraphcurvError

    for name, value in values.items():
        least_ok = value is None or value > 0 or (name == "weight_decay" and value == 0)
        if not least_ok:
            bound = ">= 0" if name == "weight_decay" else "> 0"
            raise GraphcurvError(f"--{name.replace('_', '-')} must be {bound}, got {value}")


def check_suffix(path: Path | None, suffix: str, option: str = "--output") -> None:
    from graphcurv.errors import GraphcurvError

    if path is not None and path.suffix.lower() != suffix:
        raise GraphcurvError(f"{option} must end in {suffix}, got {path.name!r}")


def prune_with_progress(graphs: list, hparams: dict[str, float], *, dangling: str, iterations: int) -> list:
    """:func:`~graphcurv.riccinets.pipeline.prune_stages` stage by stage, under one progress bar."""
    from graphcurv.errors import GraphcurvError
    from graphcurv.riccinets.pipeline import prune_stages

    cuts, total = [], len(graphs) * iterations
    with ui.progress_bar("Ricci flow") as bar:
        for i, graph in enumerate(graphs):
            label = f"stage {i + 1}/{len(graphs)}: Ricci flow"

            def progress(done: int, _total: int | None, _desc: str = "", at: int = i * iterations, text=label) -> None:
                bar(at + done, total, text)

            try:
                cuts += prune_stages([graph], hparams, dangling=dangling, iterations=iterations, progress=progress)
            except GraphcurvError as exc:
                raise GraphcurvError(f"stage {i + 1}: {exc}") from exc
            bar((i + 1) * iterations, total, label)
    return cuts


def stage_rows(graphs: list, cuts: list) -> list[tuple]:
    return [
        (i + 1, int(g.num_nodes), int(c.pruned.graph.num_nodes), int(g.edge_index.size(1)),
         int(c.pruned.graph.edge_index.size(1)), c.iterations, c.converged)
        for i, (g, c) in enumerate(zip(graphs, cuts))
    ]  # fmt: skip


def network_rows(base, stats) -> list[tuple]:
    rows = []
    for name, key in (("nodes", "nodes"), ("edges", "edges"), ("parameters", "parameters"), ("FLOPs / image", "flops")):
        before, after = getattr(base, key), getattr(stats, key)
        rows.append((name, before, after, f"{100 * after / before:.1f}%" if before else "-"))
    return rows


def write_pruned_network(output: Path, graphs: list, cuts: list, shape, *, hparams: dict[str, float], channels: int,
                         head_channels: int, dangling: str, iterations: int, dataset: str | None,
                         wiring: dict) -> tuple:  # fmt: skip
    """:func:`graphcurv.riccinets.saving.write_pruned_network` seeded by ``--seed``, with its tables; (base, pruned)."""
    from graphcurv.riccinets.saving import write_pruned_network as write

    written = write(output, graphs, cuts, shape, hparams=hparams, channels=channels, head_channels=head_channels,
                    dangling=dangling, iterations=iterations, dataset=dataset, wiring=wiring,
                    seed=settings().seed)  # fmt: skip
    columns = ["stage", "nodes", "nodes left", "edges", "edges left", "iterations", "converged"]
    ui.console.print(ui.table("RicciNets pruning per stage", columns, stage_rows(graphs, cuts)))
    title = f"RandWire C={channels} on {shape.in_channels}x{shape.image_size}x{shape.image_size} images"
    ui.console.print(ui.table(title, ["", "unpruned", "pruned", "share"], network_rows(written.base, written.stats)))
    ui.console.print(f"wrote {output} (pruned, untrained RandWire; {output.stat().st_size / 1024:.0f} KiB)")
    return written.base, written.stats


def image_shape(ctx: typer.Context, dataset: str, data_root: Path | None, in_channels: int, image_size: int,
                num_classes: int):  # fmt: skip
    """``(ImageDataset fixing the shape, dataset name or None)``: the dataset's test split or the shape options."""
    import torch

    from graphcurv.datasets import ImageDataset, load_dataset
    from graphcurv.errors import GraphcurvError

    shape_given = [f"--{n.replace('_', '-')}" for n in ("in_channels", "image_size", "num_classes") if given(ctx, n)]
    if not shape_given:
        test = load_dataset(dataset, split="test", root=data_root)
        return test, test.name
    if given(ctx, "dataset"):
        raise GraphcurvError(f"give either --dataset or the image shape ({', '.join(shape_given)}), not both")
    check_positive(in_channels=in_channels, num_classes=num_classes)
    if image_size < 8:
        raise GraphcurvError(f"--image-size must be >= 8 (RandWire needs images of side 8 or more), got {image_size}")
    images = torch.zeros(0, in_channels, image_size, image_size)
    return ImageDataset(images, torch.zeros(0, dtype=torch.long), num_classes, "shape"), None


@riccinets_app.command()
def prune(
    ctx: typer.Context,
    output: Path = typer.Option(
        ..., "--output", "-o", help="The pruned RandWire checkpoint (.pt).", show_default=False
    ),
    graphs_file: GraphsOption = None,
    generator: GeneratorOption = Generator.ws,
    n: NodesOption = 32,
    k: RingOption = 4,
    p: ProbabilityOption = 0.75,
    m: AttachOption = 2,
    stages: StagesOption = 3,
    alpha: AlphaOption = 0.5,
    beta: BetaOption = 0.5,
    gamma: GammaOption = 0.0,
    delta: DeltaOption = 0.5,
    iterations: IterationsOption = 50,
    dangling: DanglingOption = Dangling.isolated,
    channels: ChannelsOption = 78,
    head_channels: HeadOption = 1280,
    dataset: DatasetOption = "fashion-mnist",
    data_root: DataRootOption = None,
    in_channels: int = typer.Option(3, "--in-channels", help="Image channels (instead of --dataset)."),
    image_size: int = typer.Option(32, "--image-size", help="Image side in pixels, >= 8 (instead of --dataset)."),
    num_classes: int = typer.Option(10, "--num-classes", help="Classes (instead of --dataset)."),
    draw: Path = typer.Option(
        None, "--draw", help="PNG of the pruned stage graphs (default: the output with .png).", show_default=False
    ),
    save_graphs: Path = typer.Option(
        None, "--save-graphs", help="Also write the unpruned stage graphs (.pt), for --graphs.", show_default=False
    ),
) -> None:
    """Prune every random stage graph by Ricci flow and write the pruned, untrained RandWire.

    Each stage: Ricci flow under the RicciNets node mass (alpha..delta), then every edge lighter than the mean
    flowed weight is removed. The stage graphs are drawn with --seed (one different graph per stage) or read
    from --graphs. The dataset only fixes the image shape and the classes (its test split is read). FLOPs are per forward pass of one image
    (a multiply-accumulate counts 2).

    Example: graphcurv --seed 0 riccinets prune --dataset cifar10 --data-root ~/cifar -o net.pt
    """
    from graphcurv.riccinets.drawing import draw_stages
    from graphcurv.riccinets.wiring import save_graphs as write_graphs

    check_suffix(output, ".pt")
    check_suffix(save_graphs, ".pt", "--save-graphs")
    draw = draw if draw is not None else output.with_suffix(".png")
    check_suffix(draw, ".png", "--draw")
    hparams = hyperparameters(alpha, beta, gamma, delta)
    check_positive(iterations=iterations)
    shape, name = image_shape(ctx, dataset, data_root, in_channels, image_size, num_classes)
    graphs, wiring = load_stage_graphs(ctx, graphs_file, generator, n, k, p, m, stages)
    cuts = prune_with_progress(graphs, hparams, dangling=dangling.value, iterations=iterations)
    write_pruned_network(output, graphs, cuts, shape, hparams=hparams, channels=channels, head_channels=head_channels,
                         dangling=dangling.value, iterations=iterations, dataset=name, wiring=wiring)  # fmt: skip
    draw_stages(draw, graphs, [c.pruned for c in cuts], title=_draw_title(hparams, dangling.value))
    ui.console.print(f"wrote {draw}")
    if save_graphs is not None:
        write_graphs(save_graphs, graphs)
        ui.console.print(f"wrote {save_graphs} (the unpruned stage graphs)")


def _draw_title(hparams: dict[str, float], dangling: str) -> str:
    values = ", ".join(f"{key}={value:g}" for key, value in hparams.items())
    return f"RicciNets pruning ({values}; dangling={dangling})"
