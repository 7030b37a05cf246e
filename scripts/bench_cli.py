"""Median start-up time of `paperdiary --help` (goal: under 0.3 s).

Usage: python scripts/bench_cli.py [RUNS]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    command = [sys.executable, "-m", "paperdiary", "--help"]
    subprocess.run(command, check=True, capture_output=True)  # warm the file cache
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    print(f"paperdiary --help: median {median * 1000:.0f} ms over {runs} runs "
          f"(min {min(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms); goal < 300 ms: "
          f"{'met' if median < 0.3 else 'NOT met'}")


if __name__ == "__main__":
    main()
