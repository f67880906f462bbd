"""Peak RSS of ``decision_function`` on a memory-mapped NPY, with and without page release.

Writes a ROWS x 120 float32 NPY (standard normal, seed 1) into a temporary
folder, then in two fresh subprocesses fits the same small ``mlp`` (hidden
(64, 32), 1 epoch on 2,000 rows, seed 0) and scores the whole file through
``MemAEDetector.decision_function(np.load(path, mmap_mode="r"))``: once as
shipped (scored chunks' pages are given back), once with the release patched
out. Prints seconds, rows/s and ``VmHWM`` (peak RSS) for each.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/memmap_release.py [--rows 5000000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

CHILD = """
import sys, time, numpy as np, torch
torch.set_num_threads(1)
import memae.detector
if sys.argv[2] == "off":
    memae.detector.release_rows = lambda *args: None
from memae import MemAEDetector
rng = np.random.default_rng(0)
detector = MemAEDetector(model_params={"hidden": (64, 32)}, epochs=1, random_state=0,
                         device="cpu").fit(rng.standard_normal((2000, 120), dtype=np.float32))
X = np.load(sys.argv[1], mmap_mode="r")
start = time.perf_counter()
detector.decision_function(X)
seconds = time.perf_counter() - start
status = open("/proc/self/status").read().split("VmHWM:")[1].split()[0]
print(f"release {sys.argv[2]:>3}: {seconds:6.1f} s, {len(X) / seconds:9.0f} rows/s, "
      f"peak RSS {int(status) / 1024:6.0f} MB")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "rows.npy"
        out = np.lib.format.open_memmap(path, "w+", np.float32, (args.rows, 120))
        rng = np.random.default_rng(1)
        for start in range(0, args.rows, 250_000):
            stop = min(start + 250_000, args.rows)
            out[start:stop] = rng.standard_normal((stop - start, 120), dtype=np.float32)
        out.flush()
        del out
        for mode in ("on", "off"):
            subprocess.run([sys.executable, "-c", CHILD, str(path), mode], check=True)


if __name__ == "__main__":
    main()
