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
$G flow football -n 10 -o out/football_flowed.pt
# The bundled trained LeNet as a neuron graph with activations of 2 inputs per class.
$G export datasets/models/lenet-relu-fashion-mnist.pt --dataset fashion-mnist --per-class 2 -o out/lenet_graph.pt
# The main job: neural curvature of the bundled LeNet (bottlenecks, communities, report folder).
$G analyze datasets/models/lenet-relu-fashion-mnist.pt -o out/lenet-report
echo "demo done: football's curvature (out/football_curvature.csv), its Ricci flow (out/football_flowed.pt),"
echo "the bundled LeNet's neural graph (out/lenet_graph.pt) and its curvature report (out/lenet-report/)"
