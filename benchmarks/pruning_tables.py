"""The tables of docs/pruning.md, printed as Markdown from the summary that benchmarks/pruning.py writes.

    .venv/bin/python benchmarks/pruning_tables.py                       # docs/pruning/summary.json
    .venv/bin/python benchmarks/pruning_tables.py --summary out/summary.json --models vgg9-relu

Tables: the headline (largest ratio within 1 point of dense accuracy) per method, the
negative-first control against random at small ratios, each layer's share removed at
the allocation ratio, the per-layer experiment, the headline against calibration
inputs per class, and the extensions.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ORDER = ("mlp-relu", "mlp-relu-wd", "lenet-relu", "lenet-relu-wd", "lenet-tanh", "lenet-tanh-wd")
HEADLINE = ("curvature", "curvature-negative", "magnitude", "random", "snip", "synflow", "synflow-linear",
            "curvature-magnitude")  # fmt: skip
BASELINES = ("magnitude", "random", "snip", "synflow", "synflow-linear")
CONTROL_RATIOS = ("0.01", "0.02", "0.05", "0.1", "0.2")
ALLOCATION = ("curvature", "magnitude", "snip", "synflow")


def text(value) -> str:
    return "-" if value is None else f"{value:g}"


def row(cells) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def table(header, rows) -> list[str]:
    return [row(header), row(["---"] * len(header)), *(row(r) for r in rows)]


def label(name: str, model: dict) -> str:
    per_class = model.get("per_class", 10)
    return name if per_class == 10 else f"{name} ({per_class}/class)"


def headline_table(summary: dict, names: list[str]) -> list[str]:
    header = ["model", "dense", *HEADLINE, "best baseline", "curvature >= best?"]
    rows = []
    for name in names:
        model = summary[name]
        found = model["headline"]
        scored = {m: found[m] for m in BASELINES if found.get(m) is not None}
        best = max(scored.values(), default=None)
        winners = ", ".join(m for m, v in scored.items() if v == best)
        verdict = "-" if best is None or found.get("curvature") is None else (
            "yes" if found["curvature"] >= best else "**no**")  # fmt: skip
        cells = [f"**{text(found[m])}**" if m == "curvature" and m in found else text(found.get(m)) for m in HEADLINE]
        rows.append([label(name, model), f"{model['dense_accuracy']:.4f}", *cells,
                     f"{text(best)} ({winners})" if winners else "-", verdict])  # fmt: skip
    return table(header, rows)


def control_table(summary: dict, names: list[str]) -> list[str]:
    rows = []
    for name in names:
        accuracy = summary[name]["accuracy"]
        cells = [f"{accuracy['curvature-negative'][r]:.3f} / {accuracy['random'][r]:.3f}" for r in CONTROL_RATIOS]
        rows.append([name, *cells])
    return table(["model", *(f"{r} negative / random" for r in CONTROL_RATIOS)], rows)


def allocation_tables(summary: dict, names: list[str]) -> list[str]:
    lines = []
    for name in names:
        shares = summary[name]["allocation"]
        layers = sorted(layer for layer in shares["curvature"] if layer != "total")
        lines += [f"**{name}** | " + " | ".join(ALLOCATION), "--- | " + " | ".join("---" for _ in ALLOCATION) + " |"]
        lines += [
            f"`{layer}` | " + " | ".join(f"{100 * shares[m][layer]:.0f} %" for m in ALLOCATION) for layer in layers
        ]
        lines.append("")
    return lines[:-1]


def per_layer_table(summary: dict, names: list[str]) -> list[str]:
    rows = []
    for name in names:
        for layer, found in summary[name].get("per_layer", {}).items():
            rows.append([name, f"`{layer}`", text(found.get("curvature")), text(found.get("magnitude"))])
    return table(["model", "layer", "curvature", "magnitude"], rows)


def calibration_table(summary: dict, names: list[str]) -> list[str]:
    counts = (1, 2, 5, 10, 20)
    rows = []
    for name in names:
        model = summary[name]
        found, own = model["headline"], model.get("per_class", 10)
        cells = [text(found["curvature"] if k == own else found.get(f"curvature k={k}")) for k in counts]
        rows.append([name, *cells])
    return table(["model", *(f"k={k}" for k in counts)], rows)


def extensions_table(summary: dict, names: list[str]) -> list[str]:
    rows = []
    for name in names:
        model = summary[name]
        found = model["headline"]
        iterative = model.get("iterative", {}).get("headline")
        best = max((found[m] for m in BASELINES if found.get(m) is not None), default=None)
        rows.append([name, text(found.get("curvature")), text(found.get("curvature-magnitude")),
                     text(iterative) if "iterative" in model else "-", text(best)])  # fmt: skip
    rounds = next((m["iterative"]["rounds"] for m in summary.values() if "iterative" in m), 2)
    return table(["model", "curvature", "curvature-magnitude", f"curvature-iterative ({rounds} rounds)",
                  "best baseline"], rows)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--summary", default="docs/pruning/summary.json")
    parser.add_argument("--models", default=None, help="comma-separated (default: every model, in the docs' order)")
    args = parser.parse_args(argv)
    summary = json.loads(Path(args.summary).read_text())
    names = args.models.split(",") if args.models else sorted(summary, key=lambda n: (n not in ORDER, ORDER.index(n)
                                                                                      if n in ORDER else 0, n))  # fmt: skip
    sections = {
        "Headline: largest ratio within 1 point of dense accuracy": headline_table(summary, names),
        "Negative-first control against random": control_table(summary, names),
        "Share of each layer removed at the allocation ratio": allocation_tables(summary, names),
        "Per-layer experiment": per_layer_table(summary, names),
        "Curvature's headline against calibration inputs per class": calibration_table(summary, names),
        "Extensions": extensions_table(summary, names),
    }
    for title, lines in sections.items():
        print(f"### {title}\n")
        print("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
