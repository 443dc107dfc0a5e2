"""Every benchmark in one command:  python -m benchmarks  (prints tables, writes nothing).

    core and pages (AppTest)      benchmarks/bench_pages.py
    the EoS engine (one core)     benchmarks/bench_eos.py
    Adam, RMSProp, SGD, schedules benchmarks/bench_optimizers.py
    the central flow (one core)   benchmarks/bench_central_flow.py
    Chromium: loads and repaints  benchmarks/bench_browser.py, bench_live_momentum.py (need Debian's chromium)
The load test is separate and longer:  python loadtest/run.py
"""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

for script in (
    "bench_pages.py",
    "bench_eos.py",
    "bench_optimizers.py",
    "bench_central_flow.py",
    "bench_browser.py",
    "bench_live_momentum.py",
):
    print(f"\n=== {script} ===", flush=True)
    subprocess.run([sys.executable, str(HERE / script)], check=True)
