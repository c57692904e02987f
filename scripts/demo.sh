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
# One-shot pruning of the bundled LeNet by its curvature scores (60 % of the weights), test accuracy before/after.
$G prune datasets/models/lenet-relu-fashion-mnist.pt --ratio 0.6 --scores out/lenet-report/scores.pt -o out/lenet-pruned.pt
# RicciNets: a randomly wired network's stage graphs pruned by Ricci flow before training (PNG of the cut).
$G riccinets prune --n 32 --k 4 --p 0.75 --dataset fashion-mnist --channels 16 --head-channels 256 -o out/randwire.pt
echo "demo done: football's curvature (out/football_curvature.csv), its Ricci flow (out/football_flowed.pt),"
echo "the bundled LeNet's neural graph (out/lenet_graph.pt), its curvature report (out/lenet-report/),"
echo "the LeNet pruned by curvature (out/lenet-pruned.pt) and a RicciNets-pruned RandWire (out/randwire.pt, .png)"
