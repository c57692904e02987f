#!/usr/bin/env bash
# The README's demo: graphcurv's main jobs on bundled and collection graphs.
set -euo pipefail
cd "$(dirname "$0")/.."
G=.venv/bin/graphcurv
mkdir -p out
$G version
$G info football
$G curvature datasets/graphs/two_triangles.txt --top 3
$G curvature football --top 5 -o out/football_curvature.csv
echo "demo done: per-edge curvature of football written to out/football_curvature.csv"
