"""Edge of Stability engine timings on one core: `python benchmarks/bench_eos.py`.

The default run is theory.md §5's setup: gaussian data n = 128, widths (8, 16, 16, 1), swish, mse
(with the ½), η = 0.2, 1,000 full-batch GD steps, sharpness (Lanczos on exact HVPs) every 10 steps.
Target: ≤ 0.5 s wall time on one core.
"""

import os
import sys

# Pin BLAS to one thread before numpy loads: the target is "one core".
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from core import datasets, network, training  # noqa: E402
from core.sharpness import top_eigenvalues  # noqa: E402

LOAD = os.getloadavg()[0]
REPEATS = 5
WIDTHS = (8, 16, 16, 1)


def timed(fn, repeats=REPEATS):
    """(median wall s, min wall s, median CPU s) of fn() and its last result."""
    walls, cpus, result = [], [], None
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), min(walls), statistics.median(cpus), result


def per_second(fn, seconds=0.5):
    """Calls of fn per second, counted over about `seconds`."""
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(50):
            fn()
        count += 50
    return count / (time.perf_counter() - start)


def main():
    training.train(0.2, 50)  # warm-up: imports, caches
    run_median, run_min, run_cpu, run = timed(lambda: training.train(0.2, 1000))

    X, y = datasets.make("gaussian", 128, 0)
    Xa, yT, layout = network._augment(X), np.ascontiguousarray(y.T), network._layout(WIDTHS)
    work = network._Workspace(layout, len(X))
    work.theta[:] = run["params"]
    grads = per_second(lambda: network._Pass(work.theta, Xa, yT, layout, "swish", "mse", 1, work))
    state = network._Pass(run["params"], Xa, yT, layout, "swish", "mse", order=2)
    v = np.random.default_rng(0).standard_normal(len(run["params"]))
    hvps = per_second(lambda: state.hvp(v))
    P = len(run["params"])
    cold, _, _, _ = timed(lambda: top_eigenvalues(state.hvp, P), 20)
    earlier = network._Pass(run["param_history"][-2], Xa, yT, layout, "swish", "mse", order=2)
    v_earlier = top_eigenvalues(earlier.hvp, P)[1][:, 0]  # the top eigenvector 10 steps before
    warm, _, _, _ = timed(lambda: top_eigenvalues(state.hvp, P, v0=v_earlier), 20)

    flow_median, flow_min, _, flow = timed(lambda: training.gradient_flow(0.2, 1000, with_sharpness=False), 3)
    flow_s_median, _, _, _ = timed(lambda: training.gradient_flow(0.2, 1000), 1)
    distance = training.distance_to_flow(run, flow)
    # What the EoS page integrates (ui.eos_runs.flow_distance): to 1.5 × the step where S reached 2/η.
    cross = int(run["step"][np.flatnonzero(run["sharpness"] >= 10.0)[0]])
    horizon = 10 * (int(1.5 * cross) // 10 + 1)
    page_median, _, page_cpu, page_flow = timed(lambda: training.gradient_flow(0.2, horizon, with_sharpness=False), 3)

    sampled = np.isfinite(run["sharpness"])
    tail = run["sharpness"][700:][np.isfinite(run["sharpness"][700:])]
    rows = [
        ("machine load average (1 min) at start", f"{LOAD:.2f}  (other processes slow every figure)"),
        (
            "default run: 1000 GD steps + 101 sharpness, median of 5",
            f"{run_median:.3f} s wall (min {run_min:.3f} s), {run_cpu:.3f} s CPU",
        ),
        ("  target", "≤ 0.5 s"),
        (
            "  HVPs in the run / per sharpness measurement",
            f"{run['hvp_count']} / {run['hvp_count'] / sampled.sum():.1f}",
        ),
        ("  sharpness: first → median of last 30 % (2/η = 10)", f"{run['sharpness'][0]:.2f} → {np.median(tail):.3f}"),
        ("  largest Lanczos residual ‖Hv − λv‖", f"{np.nanmax(run['residual']):.1e}"),
        ("gradients (loss + backprop) per second", f"{grads:,.0f}"),
        ("HVPs (exact R-operator) per second", f"{hvps:,.0f}"),
        ("one sharpness measurement: cold / warm start", f"{cold * 1e3:.1f} ms / {warm * 1e3:.1f} ms"),
        (
            f"gradient flow to 1.5 × the crossing step ({horizon}, t = {0.2 * horizon:g}): the page's, median of 3",
            f"{page_median:.2f} s ({page_cpu:.2f} s CPU), {page_flow['nfev']} gradients / {page_flow['njev']} Hessians",
        ),
        (
            "gradient flow to t = η·1000 = 200 (RK45, then BDF), median of 3",
            f"{flow_median:.2f} s (min {flow_min:.2f} s)",
        ),
        ("  the same with sharpness at its 101 times", f"{flow_s_median:.2f} s"),
        ("  gradients / Hessians / solver", f"{flow['nfev']} / {flow['njev']} / {flow['message']}"),
        (
            "  ‖θ_GD − θ_GF‖/‖θ_GF‖ at steps 300 and 1000",
            f"{distance['relative'][30]:.4f}, {distance['relative'][-1]:.4f}",
        ),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"Edge of Stability engine, one thread (numpy {np.__version__})")
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
