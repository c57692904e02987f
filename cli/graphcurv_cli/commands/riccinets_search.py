"""``graphcurv riccinets search`` (REINFORCE over the node-mass hyperparameters) and ``compare`` (paper table)."""

from __future__ import annotations

from pathlib import Path

import typer

from graphcurv_cli import ui
from graphcurv_cli.app import settings
from graphcurv_cli.commands.riccinets import (
    AlphaOption,
    AttachOption,
    BatchOption,
    BetaOption,
    ChannelsOption,
    Dangling,
    DanglingOption,
    DecayOption,
    DeltaOption,
    EpochsOption,
    GammaOption,
    Generator,
    GeneratorOption,
    GraphsOption,
    HeadOption,
    IterationsOption,
    LrOption,
    NodesOption,
    ProbabilityOption,
    RingOption,
    StagesOption,
    TrainSizeOption,
    check_positive,
    check_suffix,
    hyperparameters,
    load_stage_graphs,
    prune_with_progress,
    riccinets_app,
    write_pruned_network,
)
from graphcurv_cli.models import DataRootOption, DatasetOption


def _train_settings(epochs: int, lr: float, weight_decay: float, batch_size: int, train_size: int | None):
    from graphcurv.riccinets.pipeline import TrainSettings

    check_positive(epochs=epochs, lr=lr, weight_decay=weight_decay, batch_size=batch_size, train_size=train_size)
    device = str(settings().torch_device())
    return TrainSettings(epochs, lr, weight_decay, batch_size, train_size, settings().seed, device)


def top_candidates(steps, count: int = 10) -> list:
    """The ``count`` highest-reward steps with distinct hyperparameters (first occurrence of each)."""
    seen, distinct = set(), []
    for step in steps:
        key = tuple(sorted(step.candidate.hparams.items()))
        if key not in seen:
            seen.add(key)
            distinct.append(step)
    return sorted(distinct, key=lambda s: -s.reward)[:count]


def _hparams_text(hparams: dict[str, float]) -> str:
    return ", ".join(f"{key}={value:g}" for key, value in hparams.items())


@riccinets_app.command()
def search(
    ctx: typer.Context,
    graphs_file: GraphsOption = None,
    generator: GeneratorOption = Generator.ws,
    n: NodesOption = 32,
    k: RingOption = 4,
    p: ProbabilityOption = 0.75,
    m: AttachOption = 2,
    stages: StagesOption = 3,
    episodes: int = typer.Option(20, "--episodes", help="REINFORCE episodes (paper: 20)."),
    steps: int = typer.Option(5, "--steps", help="Candidates per episode (fewer if one falls below --floor)."),
    mu: float = typer.Option(
        0.5, "--mu", help="FLOPs penalty of the reward R = accuracy - mu * FLOPs share, [0, 1.5]."
    ),
    floor: float = typer.Option(0.5, "--floor", help="End an episode once a candidate's val accuracy is below this."),
    discount: float = typer.Option(0.99, "--discount", help="Discount of the episode returns, [0, 1]."),
    dataset: DatasetOption = "fashion-mnist",
    data_root: DataRootOption = None,
    epochs: EpochsOption = 1,
    lr: LrOption = 0.05,
    weight_decay: DecayOption = 5e-4,
    batch_size: BatchOption = 128,
    train_size: TrainSizeOption = 10000,
    val_size: int = typer.Option(2000, "--val-size", help="Validate on the first N images of the val split."),
    iterations: IterationsOption = 50,
    dangling: DanglingOption = Dangling.isolated,
    channels: ChannelsOption = 78,
    head_channels: HeadOption = 1280,
    log: Path = typer.Option(
        None, "--log", help="JSONL log, one line per candidate (written as the search goes).", show_default=False
    ),
    output: Path = typer.Option(
        None, "--output", "-o", help="Write the best candidate's pruned, untrained RandWire (.pt).", show_default=False
    ),
) -> None:
    """Search alpha, beta, delta (0.0..1.0 by 0.1; gamma = 0) with the RicciNets REINFORCE controller.

    Every candidate prunes the stage graphs, trains the network from scratch (--epochs on the first --train-size
    train images) and scores R = val accuracy - mu * FLOPs / unpruned FLOPs (FLOPs per forward pass of one
    image). Candidates already evaluated are reused. Ends with the top 10 distinct candidates and the
    controller's final choice.

    Example: graphcurv --seed 0 riccinets search --episodes 20 --log search.jsonl -o best.pt
    """
    from graphcurv.datasets import load_dataset
    from graphcurv.errors import GraphcurvError
    from graphcurv.riccinets.pipeline import build_network, candidate_evaluator, network_stats
    from graphcurv.riccinets.search import MU_RANGE, ricci_search

    check_suffix(output, ".pt")
    if not MU_RANGE[0] <= mu <= MU_RANGE[1]:
        raise GraphcurvError(f"--mu must be in [{MU_RANGE[0]}, {MU_RANGE[1]}] (paper eq. 7), got {mu}")
    check_positive(episodes=episodes, steps=steps, val_size=val_size, iterations=iterations)
    run = _train_settings(epochs, lr, weight_decay, batch_size, train_size)
    graphs, wiring = load_stage_graphs(ctx, graphs_file, generator, n, k, p, m, stages)
    train_set = load_dataset(dataset, split="train", root=data_root)
    val_set = load_dataset(dataset, split="val", root=data_root).subset(slice(0, val_size))
    options = {"channels": channels, "head_channels": head_channels}
    base = network_stats(build_network(graphs, val_set, seed=run.seed, **options), val_set)
    ui.console.print(
        f"search on {train_set.name}: {min(len(train_set), train_size or len(train_set)):,} train, {len(val_set):,} "
        f"val images; unpruned: {base.edges} edges, {base.parameters:,} parameters, {base.flops:,} FLOPs"
    )
    with ui.progress_bar("search") as bar:
        where = [0, episodes * steps]

        def progress(done: int, total: int | None, desc: str = "") -> None:
            where[:] = [done, total]
            bar(done, total, desc)

        def training(text: str) -> None:
            bar(where[0], where[1], f"candidate {where[0] + 1}: {text}")

        evaluate = candidate_evaluator(graphs, train_set, val_set, settings=run, base=base, dangling=dangling.value,
                                       iterations=iterations, on_candidate=training, **options)  # fmt: skip
        result = ricci_search(evaluate, episodes=episodes, steps_per_episode=steps, discount=discount,
                              accuracy_floor=floor, mu=mu, flops_baseline=float(base.flops), seed=run.seed,
                              log_path=log, progress=progress)  # fmt: skip
    columns = ["alpha", "beta", "gamma", "delta", "accuracy", "FLOPs", "weights", "edges", "reward"]
    rows = []
    for step in top_candidates(result.steps):
        c = step.candidate
        rows.append([f"{c.hparams.get(name, 0.0):g}" for name in ("alpha", "beta", "gamma", "delta")]
                    + [f"{c.accuracy:.4f}", *(f"{100 * share:.1f}%" for share in (c.flops_share, c.weights_share,
                       c.edges_share)), f"{step.reward:.4f}"])  # fmt: skip
    evaluated = sum(not s.cached for s in result.steps)
    title = (f"top candidates by reward (FLOPs, weights, edges: share of the unpruned network; {len(result.steps)} "
             f"steps, {evaluated} trained; mu={mu:g})")  # fmt: skip
    ui.console.print(ui.table(title, columns, rows))
    best = result.best
    ui.console.print(f"best candidate: {_hparams_text(best.candidate.hparams)} (reward {best.reward:.4f})")
    ui.console.print(f"controller's final choice: {_hparams_text(result.final_action)}")
    if log is not None:
        ui.console.print(f"wrote {log}")
    if output is not None:
        hparams = {name: float(best.candidate.hparams[name]) for name in ("alpha", "beta", "gamma", "delta")}
        cuts = prune_with_progress(graphs, hparams, dangling=dangling.value, iterations=iterations)
        write_pruned_network(output, graphs, cuts, val_set, hparams=hparams, dangling=dangling.value,
                             iterations=iterations, dataset=val_set.name, wiring=wiring, **options)  # fmt: skip


def parse_seeds(text: str) -> list[int]:
    from graphcurv.errors import GraphcurvError

    try:
        seeds = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise GraphcurvError(f"--seeds takes comma-separated integers such as 0,1,2, got {text!r}") from exc
    if not seeds:
        raise GraphcurvError(f"--seeds takes comma-separated integers such as 0,1,2, got {text!r}")
    return seeds


def _mean_std(summary: dict, key: str) -> str:
    return f"{100 * summary[key]:.2f} ± {100 * summary[f'{key}_std']:.2f}"


@riccinets_app.command()
def compare(
    ctx: typer.Context,
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
    seeds: str = typer.Option("0,1,2", "--seeds", help="Training seeds (initialisation, batch order), e.g. 0,1,2."),
    epochs: EpochsOption = 2,
    lr: LrOption = 0.05,
    weight_decay: DecayOption = 5e-4,
    batch_size: BatchOption = 128,
    train_size: TrainSizeOption = None,
    finetune: int = typer.Option(1, "--finetune", help="Fine-tuning epochs after lowest-magnitude pruning (>= 0)."),
    dataset: DatasetOption = "fashion-mnist",
    data_root: DataRootOption = None,
    iterations: IterationsOption = 50,
    dangling: DanglingOption = Dangling.isolated,
    channels: ChannelsOption = 78,
    head_channels: HeadOption = 1280,
    output: Path = typer.Option(
        None, "--output", "-o", help="CSV with one row per trained network (method, seed).", show_default=False
    ),
) -> None:
    """Compare RicciNets with lowest-magnitude pruning and the unpruned network (the paper's table).

    Per seed: the unpruned RandWire trained --epochs; the RicciNets-pruned one trained the same way from scratch;
    the trained unpruned one with its lowest |sigmoid(w)| edges removed down to RicciNets' edge count per stage,
    fine-tuned --finetune epochs. Top-1 test accuracy and shares of the unpruned network in %, mean ± std over
    seeds; FLOPs per forward pass of one image.

    Example: graphcurv --seed 0 riccinets compare --dataset fashion-mnist --seeds 0,1,2 -o compare.csv
    """
    from graphcurv.datasets import load_dataset
    from graphcurv.errors import GraphcurvError
    from graphcurv.files import write_csv
    from graphcurv.riccinets.compare import ComparisonRow, compare_pruning, summarise

    check_suffix(output, ".csv")
    hparams = hyperparameters(alpha, beta, gamma, delta)
    seed_list = parse_seeds(seeds)
    if finetune < 0:
        raise GraphcurvError(f"--finetune is a number of epochs (>= 0), got {finetune}")
    check_positive(iterations=iterations)
    run = _train_settings(epochs, lr, weight_decay, batch_size, train_size)
    graphs, _ = load_stage_graphs(ctx, graphs_file, generator, n, k, p, m, stages)
    train_set = load_dataset(dataset, split="train", root=data_root)
    test_set = load_dataset(dataset, split="test", root=data_root)
    with ui.progress_bar("compare") as bar:
        rows = compare_pruning(graphs, hparams, train_set, test_set, channels=channels, head_channels=head_channels,
                               settings=run, seeds=seed_list, dangling=dangling.value, iterations=iterations,
                               finetune_epochs=finetune, progress=bar)  # fmt: skip
    summary = summarise(rows)
    table_rows = [(method, _mean_std(s, "accuracy"), _mean_std(s, "edges_share"), _mean_std(s, "weights_share"),
                   _mean_std(s, "flops_share")) for method, s in summary.items()]  # fmt: skip
    columns = ["method", "top-1 (%)", "edges (%)", "weights (%)", "FLOPs (%)"]
    title = f"RicciNets comparison on {test_set.name} ({_hparams_text(hparams)}; {len(seed_list)} seeds)"
    ui.console.print(ui.table(title, columns, table_rows))
    one_shot = [r.one_shot_accuracy for r in rows if r.one_shot_accuracy is not None]
    if one_shot:
        ui.console.print(f"magnitude before fine-tuning: top-1 {100 * sum(one_shot) / len(one_shot):.2f} % (mean)")
    if output is not None:
        header = list(ComparisonRow.__dataclass_fields__)
        write_csv(output, header, [[row.as_dict()[key] for key in header] for row in rows])
        ui.console.print(f"wrote {output}")
