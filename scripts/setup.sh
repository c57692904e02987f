#!/usr/bin/env bash
# Installs everything graphcurv needs on a Debian 12 machine (run as root), idempotently:
#   1. Debian packages: graph-tool, Fashion-MNIST, venv support (skipped when present);
#   2. a virtual environment in .venv;
#   3. the CPU build of torch first (an exact pin, so nothing pulls CUDA packages);
#   4. graphcurv itself, editable, with the extras dev, graphtool and distributed;
#   5. a link that makes Debian's graph-tool importable inside the venv.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
TORCH_VERSION=${TORCH_VERSION:-2.13.0}
APT_PACKAGES=(python3-graph-tool dataset-fashion-mnist python3-venv)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "==> apt-get install ${missing[*]}"
    if [ "$(id -u)" -ne 0 ]; then
        echo "error: installing ${missing[*]} needs root (run as root, or install them first)" >&2
        exit 1
    fi
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

pyver=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
if [ "$pyver" != "3.11" ]; then
    echo "warning: $PYTHON is Python $pyver; Debian 12's graph-tool is built for 3.11, so it will not import" >&2
fi

if [ ! -x "$VENV/bin/python" ]; then
    echo "==> creating $VENV with $PYTHON"
    "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check -q)
pip_install() {  # pip, minus the noise of index locations this machine does not have
    "${PIP[@]}" install "$@" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
}

if ! "$VENV/bin/python" -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '$TORCH_VERSION')" 2>/dev/null; then
    echo "==> installing torch==$TORCH_VERSION (CPU build)"
    pip_install "torch==$TORCH_VERSION"
fi

echo "==> installing graphcurv[dev,graphtool,distributed] (editable)"
pip_install -e ".[dev,graphtool,distributed]"

site=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
if [ -d /usr/lib/python3/dist-packages/graph_tool ] && [ ! -e "$site/graph_tool" ]; then
    echo "==> linking Debian's graph-tool into $VENV"
    ln -s /usr/lib/python3/dist-packages/graph_tool "$site/graph_tool"
fi

"$VENV/bin/python" -c "from graphcurv.optional import import_graph_tool as g; print('graph-tool', g().__version__.split()[0], 'ok')"
echo "==> setup done"
