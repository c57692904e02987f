#!/usr/bin/env bash
# The README's demo: the main job of graphcurv on bundled examples.
set -euo pipefail
cd "$(dirname "$0")/.."
G=.venv/bin/graphcurv
$G version
$G info football
