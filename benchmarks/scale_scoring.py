"""Bounded-memory scoring at scale: rows/s and peak resident memory per file size.

For each size (default 0.5M, 1M and 5M rows x 120 float32 features) the script
writes an NPY and a Parquet file into a temporary folder, scores each in a
fresh subprocess with :func:`memae.table_scoring.score_file`, and prints the rows per
second and the subprocess's peak RSS: ``VmHWM`` from ``/proc/self/status`` on
Linux, which includes the ~0.3 GB of the Python + torch runtime. (Not
``getrusage``: its ``ru_maxrss`` survives ``exec`` and so also counts the
parent's memory at ``fork``.) It also scores the
NPY through ``MemAEDetector.decision_function`` on an ``np.load(mmap_mode="r")``
array, the in-memory API. The data files are deleted afterwards.

The model is one fixed configuration (``mlp`` preset, 120 -> 64 -> 32 -> 8,
memory 50, 3 epochs on 20,000 rows of the same distribution, seed 0): scoring
cost depends on the architecture, not on how well it is trained.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/scale_scoring.py [--rows 500000 1000000 5000000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

N_FEATURES = 120
WRITE_ROWS = 250_000


def _blocks(n_rows: int, seed: int):
    rng = np.random.default_rng(seed)
    for start in range(0, n_rows, WRITE_ROWS):
        rows = min(WRITE_ROWS, n_rows - start)
        yield rng.standard_normal((rows, N_FEATURES), dtype=np.float32)


def write_npy(path: Path, n_rows: int) -> None:
    out = np.lib.format.open_memmap(path, "w+", np.float32, (n_rows, N_FEATURES))
    start = 0
    for block in _blocks(n_rows, seed=1):
        out[start:start + len(block)] = block
        out.flush()
        start += len(block)
    del out


def write_parquet(path: Path, n_rows: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    names = [f"x{j}" for j in range(N_FEATURES)]
    schema = pa.schema([(name, pa.float32()) for name in names])
    with pq.ParquetWriter(path, schema) as writer:
        for block in _blocks(n_rows, seed=1):
            writer.write_table(pa.Table.from_arrays(list(block.T), schema=schema))


def worker(mode: str, model: str, data: str, out: str) -> None:
    """Score one file in this (fresh) process and print a JSON line."""
    import torch

    from memae import MemAEDetector
    from memae.table_scoring import score_file

    torch.set_num_threads(1)
    detector = MemAEDetector.load(model)
    started = time.perf_counter()
    if mode == "stream":
        n_rows = score_file(detector, data, out).n_rows
    else:
        X = np.load(data, mmap_mode="r")
        n_rows = len(detector.decision_function(X))
    seconds = time.perf_counter() - started
    print(json.dumps({"rows": n_rows, "seconds": seconds, "peak_rss_mb": peak_rss_mb()}))


def peak_rss_mb() -> float:
    """This process's peak resident memory in MiB."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes on macOS


def run_worker(mode: str, model: Path, data: Path, out: Path) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, __file__, "--worker", mode, str(model), str(data),
                           str(out)], env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[500_000, 1_000_000, 5_000_000])
    parser.add_argument("--worker", nargs=4, metavar=("MODE", "MODEL", "DATA", "OUT"))
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return

    import torch

    from memae import MemAEDetector

    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory(prefix="memae-scale-") as folder:
        tmp = Path(folder)
        X_fit = np.random.default_rng(0).standard_normal((20_000, N_FEATURES), dtype=np.float32)
        model = MemAEDetector(epochs=3, random_state=0, device="cpu").fit(X_fit)
        model.save(tmp / "model.safetensors")
        print(f"{'rows':>9} {'input':<22} {'rows/s':>9} {'peak RSS MB':>12} {'seconds':>8}")
        for n_rows in args.rows:
            for kind, writer in (("npy", write_npy), ("parquet", write_parquet)):
                data = tmp / f"X.{kind}"
                writer(data, n_rows)
                modes = ("stream", "array") if kind == "npy" else ("stream",)
                for mode in modes:
                    result = run_worker(mode, tmp / "model.safetensors", data, tmp / "s.npy")
                    label = f"{kind} score_file" if mode == "stream" else "npy mmap decision_fn"
                    print(f"{n_rows:>9} {label:<22} {result['rows'] / result['seconds']:>9.0f} "
                          f"{result['peak_rss_mb']:>12.0f} {result['seconds']:>8.1f}",
                          flush=True)
                data.unlink()


if __name__ == "__main__":
    main()
