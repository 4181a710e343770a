"""Dataset catalog scan: how long the Train tab's dataset list takes to find the shared datasets.

    python benchmarks/catalog_scan.py [--runs 5] [DATA_DIR]

Times :func:`signstudio.data.catalog.find_datasets` on the data folder (default
``$SIGNSTUDIO_DATA``, else ``../shared/data``): the first scan and the median of ``--runs`` more.
The goal is under 2 s. The machine is shared and noisy: read it beside a second run.
"""

from __future__ import annotations

import argparse
import statistics
import time


def main() -> None:
    from signstudio.data.catalog import find_datasets
    from signstudio.paths import data_dir

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default=None, help="data folder (default: the shared one)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    folder = args.data or data_dir()
    times = []
    for _ in range(args.runs + 1):
        start = time.perf_counter()
        infos = find_datasets(folder)
        times.append(time.perf_counter() - start)
    print(f"{len(infos)} datasets in {folder}")
    print(f"first scan {times[0]:.2f} s; median of {args.runs} more {statistics.median(times[1:]):.2f} s (goal < 2 s)")


if __name__ == "__main__":
    main()
