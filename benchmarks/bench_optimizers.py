"""Cost of each run type of the EoS page on one core: `python benchmarks/bench_optimizers.py`.

For each preset (the page's, ui/eos_presets.py, and the runs the issue names): wall seconds (median of 3),
HVPs per step (all Hessian-vector products over steps: Lanczos, preconditioned Lanczos, batch-sharpness
batches), and what hovers at the threshold (edge_report: peak and tail median of quantity/threshold).
Batch-sharpness HVPs are on a batch (size b), so they cost about b/n of a full one, plus one batch gradient.
"""

import os
import sys

# Pin BLAS to one thread before numpy loads: the figures are for one core, like bench_eos.py.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import statistics  # noqa: E402
import time  # noqa: E402

from core import datasets, training  # noqa: E402

DIGITS_300 = {"data": datasets.make("digits", 300, 0, classes=4), "widths": (64, 16, 16, 4)}
DIGITS_100 = {"data": datasets.make("digits", 100, 0, classes=4), "widths": (64, 16, 16, 4)}

CASES = [
    ("GD η = 0.2, 1,000 steps (the default)", 0.2, {"steps": 1000}),
    ("heavy ball β = 0.5, η = 0.4, 600 steps", 0.4, {"steps": 600, "method": "heavy_ball", "beta": 0.5}),
    ("Adam η = 0.01, 3,000 steps, every 10", 0.01, {"steps": 3000, "method": "adam"}),
    ("Adam η = 0.01, 1,500 steps, every 20", 0.01, {"steps": 1500, "method": "adam", "sharpness_every": 20}),
    ("RMSProp η = 0.003, 3,000 steps", 0.003, {"steps": 3000, "method": "rmsprop"}),
    ("RMSProp η = 0.003, 1,500 steps, every 20", 0.003, {"steps": 1500, "method": "rmsprop", "sharpness_every": 20}),
    ("SGD b = 16 of 128, η = 0.2, 2,000 steps", 0.2, {"steps": 2000, "batch_size": 16, "sharpness_every": 50}),
    ("SGD b = 64 of 128, η = 0.2, 2,000 steps", 0.2, {"steps": 2000, "batch_size": 64, "sharpness_every": 50}),
    (
        "SGD b = 16 of 256, η = 0.4, 4,000 steps, every 200",
        0.4,
        {"steps": 4000, "n_samples": 256, "batch_size": 16, "sharpness_every": 200},
    ),
    ("schedule 0.2 until 600, then 0.1; 2,000 steps", "0.2 until 600, then 0.1", {"steps": 2000}),
    ("schedule 0.1 until 1000, then 0.2; 2,000 steps", "0.1 until 1000, then 0.2", {"steps": 2000}),
    ("digits 300 × 4 classes, GD η = 0.8, 1,000 steps", 0.8, {"steps": 1000, **DIGITS_300}),
    (
        "digits 100 × 4 classes, SGD b = 16, η = 0.5, 800 steps",
        0.5,
        {"steps": 800, "batch_size": 16, "sharpness_every": 50, **DIGITS_100},
    ),
]


def main():
    print(f"machine load average (1 min) at start: {os.getloadavg()[0]:.2f} (other processes slow every figure)")
    training.train(0.2, 50)  # warm-up: imports, caches
    print(f"{'run':<54} {'s (median of 3)':>16} {'HVPs/step':>10} {'quantity':>25} {'peak':>6} {'tail':>6}")
    for name, lr, kwargs in CASES:
        walls, run = [], None
        for _ in range(3):
            start = time.perf_counter()
            run = training.train(lr, **kwargs)
            walls.append(time.perf_counter() - start)
        report = training.edge_report(run)
        note = " (interpolated first)" if report["interpolated_first"] else ""
        print(
            f"{name:<54} {statistics.median(walls):>16.2f} {run['hvp_count'] / kwargs['steps']:>10.1f} "
            f"{report['quantity']:>25} {report['peak']:>6.2f} {report['tail_median']:>6.2f}{note}",
            flush=True,
        )


if __name__ == "__main__":
    main()
