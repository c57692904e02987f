"""Estimated against measured peak memory of neural curvature (graphcurv.neural.memory's calibration).

    .venv/bin/python benchmarks/memory_estimate.py            # the three cases, one process each
    .venv/bin/python benchmarks/memory_estimate.py lenet 1    # one case: name, inputs (per class for lenet)

Cases: the bundled LeNet (fashion-mnist, k inputs per class), a small conv net
(1x28x28 -> 8 -> 8 -> 8 (stride 2) channels, 3x3 convs -> 32 -> 10, untrained) and the
zoo MLP 784-300-100-10 (untrained), with 2 solver workers. Measured: the growth of the
main process's peak resident set during ``neural_curvature`` (VmHWM reset through
/proc/self/clear_refs just before the call) plus the largest summed unique memory
(USS) of the worker processes. Linux only.
"""

from __future__ import annotations

import gc
import re
import subprocess
import sys
import threading
import time

CASES = {"lenet": 1, "conv": 2, "mlp": 5}
WORKERS = 2


def _status(key: str) -> int:
    return int(re.search(key + r":\s+(\d+)", open("/proc/self/status").read())[1]) * 1024


def _graph(name: str, count: int):
    import torch
    from torch import nn

    from graphcurv.datasets import calibration_set, load_dataset
    from graphcurv.models import build_model, load_model
    from graphcurv.neural import export

    data = load_dataset("fashion-mnist", split="val")
    torch.manual_seed(0)
    if name == "lenet":
        model = load_model("datasets/models/lenet-relu-fashion-mnist.pt")
        inputs, labels = calibration_set(model, data, count)
        return export(model, inputs), labels
    if name == "conv":
        model = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(),
            nn.Conv2d(8, 8, 3, stride=2, padding=1), nn.ReLU(), nn.Flatten(),
            nn.Linear(8 * 14 * 14, 32), nn.ReLU(), nn.Linear(32, 10),
        ).eval()  # fmt: skip
    else:
        model = build_model("mlp", in_channels=1, image_size=28, num_classes=10).eval()
    return export(model, data.images[:count]), None


def measure(name: str, count: int) -> str:
    import psutil

    from graphcurv.neural.curvature import neural_curvature
    from graphcurv.neural.memory import estimate_memory, format_bytes

    graph, labels = _graph(name, count)
    estimate = estimate_memory(graph, workers=WORKERS)
    workers_peak, done = [0], threading.Event()

    def poll() -> None:
        while not done.is_set():
            try:
                uss = sum(child.memory_full_info().uss for child in psutil.Process().children())
                workers_peak[0] = max(workers_peak[0], uss)
            except psutil.Error:
                pass
            time.sleep(0.05)

    gc.collect()
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")  # reset the peak resident set to the current one
    base = _status("VmRSS")
    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    started = time.perf_counter()
    neural_curvature(graph, 0.9, labels=labels, workers=WORKERS)
    seconds = time.perf_counter() - started
    measured = _status("VmHWM") - base + workers_peak[0]
    done.set()
    return (
        f"| {name} | {graph.activation.shape[1]} | {sum(graph.connection_num_edges):,} | "
        f"{format_bytes(measured)} | {estimate.describe(3)} | {estimate.total / measured:.2f} | {seconds:.0f} s |"
    )


def main() -> None:
    if len(sys.argv) == 3:
        print(measure(sys.argv[1], int(sys.argv[2])))
        return
    print("| case | inputs | edges | measured peak | estimate (largest parts) | estimate / measured | time |")
    print("|---|---|---|---|---|---|---|")
    for name, count in CASES.items():  # one fresh process per case: peaks do not mix
        out = subprocess.run([sys.executable, __file__, name, str(count)], capture_output=True, text=True, check=True)
        print(out.stdout.strip().splitlines()[-1], flush=True)


if __name__ == "__main__":
    main()
