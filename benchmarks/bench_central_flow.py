"""Central-flow timings and accuracy on one core: `python benchmarks/bench_central_flow.py`.

The default run of theory.md §5 (gaussian n = 128, 8-16-16-1 swish, mse with the ½, η = 0.2, 1,000
steps), its central flow (theory.md §9: gradient flow by DOP853 until λ₁ > 1.95/η, then explicit
Euler with 4 substeps, Lanczos and one exact third-derivative pass per substep), and the flow's
predicted loss against GD's loss in 100-step windows. Prints the cost as seconds, HVPs and passes,
and as a ratio to the GD run it explains, measured in the same process.
"""

import os
import sys

# Pin BLAS to one thread before numpy loads: the figures are "one core".
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from core import central_flow, training  # noqa: E402

LOAD = os.getloadavg()[0]
REPEATS = 3


def timed(fn, repeats=REPEATS):
    """(median wall s, median CPU s, last result)."""
    walls, cpus, result = [], [], None
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), result


def window_ratios(flow, gd, width=100):
    """Predicted / GD mean loss per `width`-step window ending after the flow's edge step."""
    edge = flow["edge_step"]
    out = []
    for start in range(0, len(gd["loss"]) - 1, width):
        if start + width > edge >= 0:
            sl = slice(start, start + width)
            out.append(np.mean(flow["predicted_loss"][sl]) / np.mean(gd["loss"][sl]))
    return np.array(out)


def main():
    central_flow.run(0.2, 20)  # warm-up: imports, caches
    gd_wall, gd_cpu, gd = timed(lambda: training.train(0.2, 1000), 5)
    cf_wall, cf_cpu, flow = timed(lambda: central_flow.run(0.2, 1000))
    edge = flow["edge_step"]
    ratio = flow["sharpness"] / flow["threshold"]
    reached = int(np.flatnonzero(ratio >= 0.999)[0])
    ratios = window_ratios(flow, gd)
    late = slice(900, 1000)
    d = central_flow.displacement(gd, flow)
    settled = d["step"] >= 600
    substeps = (1000 - edge) * central_flow.SUBSTEPS + 1
    rows = [
        ("machine load average (1 min) at start", f"{LOAD:.2f}  (other processes slow every figure)"),
        ("GD run: 1000 steps + 101 sharpness, median of 5", f"{gd_wall:.3f} s wall, {gd_cpu:.3f} s CPU"),
        ("central flow, 1000 steps, median of 3", f"{cf_wall:.2f} s wall, {cf_cpu:.2f} s CPU"),
        ("  as a multiple of the GD run (CPU)", f"{cf_cpu / gd_cpu:.1f} ×"),
        ("  gradient flow part (DOP853) / central part", f"steps 0–{edge} / {edge}–1000 ({substeps} substeps)"),
        (
            "  HVPs / third-derivative passes / gradients",
            f"{flow['hvp_count']:,} / {flow['d3_count']:,} / {flow['grad_count']:,}",
        ),
        ("  HVPs per Euler substep (Lanczos)", f"{flow['hvp_count'] / substeps:.1f} (upper bound: includes part 1)"),
        ("flow sharpness: edge step (λ₁ > 1.95/η), reaches 2/η at", f"{edge}, {reached}"),
        (
            "  max λ₁·η/2 overall; range after reaching 2/η",
            f"{ratio.max():.5f}; [{ratio[reached:].min():.5f}, {ratio[reached:].max():.5f}]",
        ),
        ("  most critical eigenvalues at once", f"{flow['n_critical'].max()}"),
        ("predicted / GD loss, 100-step windows after the edge", " ".join(f"{r:.3f}" for r in ratios)),
        ("  worst window, median", f"{np.abs(ratios - 1).max() * 100:.1f} % off, {np.median(ratios):.3f}"),
        (
            "  L(w_CF) alone / GD loss, steps 900–1000",
            f"{np.mean(flow['loss'][late]) / np.mean(gd['loss'][late]):.3f}",
        ),
        (
            "GD's mean (θ_GD − w_CF)·d)² / mean σ², steps ≥ 600",
            f"{np.mean(d['displacement'][settled] ** 2) / np.mean(d['sigma2'][settled]):.3f}",
        ),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"Central flow of GD, one thread (numpy {np.__version__})")
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
