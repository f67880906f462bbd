"""The memory read side by side: the paper's formulas term by term against the fused read.

Every section times both implementations (``Memory(implementation="reference" | "fused")``,
the same weights) in alternating rounds in one process, so both see the same machine load,
and prints medians and their ratio:

- ``memory``: forward+backward and forward-only at (P, N, C) = (4800, 2000, 64), (1024,
  2000, 32), (65536, 100, 64), with trained-like addressing (queries near items, a few to a
  few dozen items kept per position), beside the time of the read's matrix products alone;
- ``kdd``: an Adam step of the KDDCUP99 preset's net, with and without its memory;
- ``ped2``: sliding-window scoring of one Ped2 test clip by the ``cpu`` video net, frames/s,
  also with the fused read and the net's batch norms kept unfolded (as before folding);
- ``odds``: the default ``MemAEDetector()`` (fused read) fit + score against PyOD's
  ``AutoEncoder`` defaults on cardio, satellite, shuttle and mnist (60/40 stratified split,
  seed 0; medians of ``--rounds // 2`` alternating rounds, each after an untimed run);
- ``conv3d``: a training step of the ``cpu`` video net in float32 and bf16 autocast (where
  the CPU has native bf16), contiguous and ``channels_last_3d``, with its GFLOP/s against a
  measured matrix-product peak.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/memory_speed.py --data-dir ../shared/data
    python benchmarks/memory_speed.py --sections memory kdd --rounds 5
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import roc_auc_score
from torch import nn

from memae import MemAEDetector
from memae.benchmarks.odds import split
from memae.data import find_dataset, load_kddcup99, load_odds
from memae.machine import cpu_has_native_bf16
from memae.memory import Memory
from memae.models import create_model
from memae.presets import load_preset
from memae.training import objective
from memae.video import discover_clips, score_frames
from memae.video import score as video_score
from memae.video.decode import iter_frames
from memae.video.detector import VideoDetector
from memae.video.signal import model_inputs

IMPLEMENTATIONS = ("reference", "fused")
SECTIONS = ("memory", "kdd", "ped2", "odds", "conv3d")
MEMORY_SHAPES = ((4800, 2000, 64), (1024, 2000, 32), (65536, 100, 64))
ODDS_SETS = ("cardio", "satellite", "shuttle", "mnist")


def use_implementation(model: nn.Module, implementation: str) -> None:
    for module in model.modules():
        if isinstance(module, Memory):
            module.implementation = implementation


@contextlib.contextmanager
def unfolded_scoring(enabled: bool) -> Iterator[None]:
    """Video scoring with the net as trained (batch norms not folded), as before folding."""
    if not enabled:
        yield
        return
    original = video_score.for_scoring
    video_score.for_scoring = lambda model: model.eval()
    try:
        yield
    finally:
        video_score.for_scoring = original


def alternate(runs: dict[str, Callable[[], object]], rounds: int,
              repeats: int = 1) -> dict[str, float]:
    """Median seconds of each callable; rounds alternate, each round's first call untimed."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            run()
            for _ in range(repeats):
                began = time.perf_counter()
                run()
                times[name].append(time.perf_counter() - began)
    return {name: statistics.median(t) for name, t in times.items()}


def trained_like(rows: int, items: int, dim: int, seed: int = 0) -> tuple[Memory, torch.Tensor]:
    """A dot memory and queries close to its items, as after training.

    lambda is 1/N for small memories and 2.5/N, at most 0.0025, for large ones.
    """
    g = torch.Generator().manual_seed(seed)
    memory = Memory(items, dim, shrink_threshold=min(2.5 / items, 0.0025) if items > 400
                    else 1.0 / items)
    with torch.no_grad():
        memory.items.copy_(F.normalize(torch.randn(items, dim, generator=g), dim=-1) * 3)
        near = memory.items[torch.randint(items, (rows,), generator=g)]
        queries = near + torch.randn(rows, dim, generator=g) / dim**0.5
    return memory, queries


def _memory_timings(rows: int, items: int, dim: int, rounds: int) -> dict[str, float]:
    memory, queries = trained_like(rows, items, dim)
    z = queries.clone().requires_grad_()
    items_t = memory.items.detach()

    def train_step(implementation: str) -> None:
        memory.implementation = implementation
        out = memory(z)
        (out.output.square().mean() + 2e-4 * out.entropy).backward()

    def forward(implementation: str) -> None:
        memory.implementation = implementation
        with torch.no_grad():
            memory(queries)

    @torch.no_grad()
    def products(backward: bool) -> None:
        w = queries @ items_t.T
        out = w @ items_t
        if backward:  # the gradient of the weights, then of the queries and items (twice)
            g = out @ items_t.T
            _ = g @ items_t, g.T @ queries, w.T @ out

    timings = alternate({"fb_ref": partial(train_step, "reference"),
                         "fb_fused": partial(train_step, "fused"),
                         "f_ref": partial(forward, "reference"),
                         "f_fused": partial(forward, "fused"),
                         "mm_fb": partial(products, True), "mm_f": partial(products, False)},
                        rounds)
    kept = (torch.softmax(queries @ items_t.T, -1) > memory.shrink_threshold).sum(-1)
    return {**timings, "kept": float(kept.float().median())}


def section_memory(args: argparse.Namespace) -> None:
    print("\n## memory read (ms, median)\n")
    print("| P, N, C | kept/pos | fwd+bwd ref | fwd+bwd fused | speed-up | fwd ref | fwd fused "
          "| speed-up | products fwd+bwd | products fwd |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for rows, items, dim in MEMORY_SHAPES:
        t = _memory_timings(rows, items, dim, args.rounds)
        print(f"| {rows}, {items}, {dim} | {t['kept']:.0f} | "
              f"{t['fb_ref'] * 1e3:.1f} | {t['fb_fused'] * 1e3:.1f} | "
              f"**{t['fb_ref'] / t['fb_fused']:.2f}x** | {t['f_ref'] * 1e3:.1f} | "
              f"{t['f_fused'] * 1e3:.1f} | **{t['f_ref'] / t['f_fused']:.2f}x** | "
              f"{t['mm_fb'] * 1e3:.1f} | {t['mm_f'] * 1e3:.1f} |")


def _kdd_rows(data_dir: str | None, n: int) -> np.ndarray:
    try:
        X, _, _ = load_kddcup99(find_dataset("kdd99", data_dir) / "kdd_cup.npz")
        rows = np.random.default_rng(0).choice(len(X), n, replace=False)
        return np.ascontiguousarray(X[rows], dtype=np.float32)
    except (FileNotFoundError, OSError):
        print("(KDDCUP99 not found: random rows in [0, 1])")
        return np.random.default_rng(0).random((n, 118), dtype=np.float32)


class _Trainer:
    """Adam steps of one net over a cycle of batches."""

    def __init__(self, model: nn.Module, batches: tuple[torch.Tensor, ...],
                 learning_rate: float) -> None:
        self.model, self.batches, self.step_count = model.train(), batches, 0
        self.optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)

    def step(self, implementation: str = "fused") -> None:
        use_implementation(self.model, implementation)
        x = self.batches[self.step_count % len(self.batches)]
        self.step_count += 1
        loss, _ = objective(self.model, x, 0.0002)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()


def section_kdd(args: argparse.Namespace) -> None:
    config = load_preset("kdd99").detector
    X = torch.from_numpy(_kdd_rows(args.data_dir, 8 * config["batch_size"]))
    trainers = {}
    for memory in (True, False):
        torch.manual_seed(0)
        model = create_model(config["model"], in_features=X.shape[1], memory=memory,
                             memory_size=config["memory_size"], **config["model_params"])
        trainers[memory] = _Trainer(model, X.split(config["batch_size"]),
                                    config["learning_rate"])
        for _ in range(30):  # addressing as after some training
            trainers[memory].step()
    t = alternate({"MemAE reference": partial(trainers[True].step, "reference"),
                   "MemAE fused": partial(trainers[True].step, "fused"),
                   "AE": trainers[False].step}, args.rounds, repeats=3)
    print("\n## KDDCUP99 preset training step (batch 1024, ms, median)\n")
    print("| net | ms / step | / AE |")
    print("|---|---|---|")
    for name, seconds in t.items():
        print(f"| {name} | {seconds * 1e3:.1f} | **{seconds / t['AE']:.2f}x** |")


def section_ped2(args: argparse.Namespace) -> None:
    config = VideoDetector.from_preset("ped2-cpu").config
    try:
        root = find_dataset("ped2", args.data_dir)
        train_clips = discover_clips(root, "training")
        clip = discover_clips(root, "testing")[0]
    except (FileNotFoundError, OSError):
        print("\n## Ped2: skipped (UCSD Ped2 not found; pass --data-dir)")
        return
    torch.manual_seed(0)
    model = VideoDetector(config).build_model().train()
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    windows = np.stack(list(model_inputs(iter_frames(train_clips[0], config.size),
                                         config.input_signal)))
    span = config.clip_length
    for step in range(args.ped2_steps):  # a briefly trained net: addressing away from init
        starts = [(step * config.batch_size + i) * 3 % (len(windows) - span)
                  for i in range(config.batch_size)]
        x = torch.from_numpy(np.stack([windows[s:s + span] for s in starts]))
        x = x.reshape(len(starts), span, -1, *config.size).transpose(1, 2)
        loss, _ = objective(model, x, config.entropy_weight)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    model.eval()
    frames = list(model_inputs(iter_frames(clip, config.size), config.input_signal))
    with torch.no_grad():
        first = torch.from_numpy(np.stack(frames[:span])).reshape(1, span, -1, *config.size)
        kept = (model(first.transpose(1, 2)).weights > 0).sum(dim=1).float()

    def scoring(implementation: str, fold: bool) -> Callable[[], None]:
        def run() -> None:
            use_implementation(model, implementation)
            with unfolded_scoring(enabled=not fold):
                list(score_frames(model, frames, config, stride=config.score_stride))
        return run

    variants = {"reference, batch norm kept": scoring("reference", fold=False),
                "fused, batch norm kept": scoring("fused", fold=False),
                "fused, batch norm folded": scoring("fused", fold=True)}
    t = alternate(variants, max(2, args.rounds // 2))
    print(f"\n## Ped2 `cpu` sliding scoring, test clip {clip.name} ({len(frames)} frames, "
          f"net trained {args.ped2_steps} steps, {kept.mean():.1f} items kept per position)\n")
    print("| memory, scoring net | frames/s | speed-up |\n|---|---|---|")
    base = t["reference, batch norm kept"]
    for name, seconds in t.items():
        print(f"| {name} | {len(frames) / seconds:.1f} | **{base / seconds:.2f}x** |")


def section_odds(args: argparse.Namespace) -> None:
    from pyod.models.auto_encoder import AutoEncoder

    try:
        root = find_dataset("odds", args.data_dir)
    except FileNotFoundError:
        print("\n## ODDS: skipped (not found; pass --data-dir)")
        return
    print("\n## default MemAEDetector() against PyOD AutoEncoder defaults (fit + score)\n")
    print("| set | rows | PyOD AE s | AUC | MemAE s | AUC | MemAE / PyOD |")
    print("|---|---|---|---|---|---|---|")
    for name in ODDS_SETS:
        X, y = load_odds(root / f"{name}.mat")
        X_train, X_test, y_test = split(X, y, 0)
        makers = {"pyod": lambda: AutoEncoder(random_state=0, verbose=0, device="cpu"),
                  "memae": lambda: MemAEDetector(random_state=0, device="cpu")}
        aucs: dict[str, float] = {}
        seconds = alternate({m: partial(_fit_score, make, X_train, X_test, y_test, aucs, m)
                             for m, make in makers.items()}, max(1, args.rounds // 2))
        (pyod_s, pyod_auc), (memae_s, memae_auc) = ((seconds[m], aucs[m]) for m in makers)
        print(f"| {name} | {len(X_train)} | {pyod_s:.1f} | {pyod_auc:.4f} | {memae_s:.1f} | "
              f"{memae_auc:.4f} | **{memae_s / pyod_s:.2f}x** |")


def _fit_score(make: Callable[[], Any], X_train: np.ndarray, X_test: np.ndarray,
               y_test: np.ndarray, aucs: dict[str, float], method: str) -> None:
    """Fit a fresh detector, score the test rows and record its ROC-AUC in ``aucs``."""
    detector = make().fit(X_train)
    aucs[method] = roc_auc_score(y_test, detector.decision_function(X_test))


def _matmul_peak(dtype: torch.dtype) -> float:
    a = torch.randn(1024, 1024, dtype=dtype)
    t = alternate({"mm": lambda: a @ a}, rounds=3, repeats=3)["mm"]
    return 2 * 1024**3 / t / 1e9


def section_conv3d(args: argparse.Namespace) -> None:
    from torch.utils.flop_counter import FlopCounterMode

    config = VideoDetector.from_preset("ped2-cpu").config
    torch.manual_seed(0)
    model = VideoDetector(config).build_model().train()
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    x = torch.rand(config.batch_size, 1, config.clip_length, *config.size) * 2 - 1
    variants = [("fp32", False), ("fp32", True)]
    if cpu_has_native_bf16():
        variants += [("bf16", False), ("bf16", True)]

    def step(precision: str, channels_last: bool) -> Callable[[], None]:
        layout = torch.channels_last_3d if channels_last else torch.contiguous_format
        xs = x.contiguous(memory_format=layout)

        def run() -> None:
            model.to(memory_format=layout)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
                loss, _ = objective(model, xs, config.entropy_weight)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        return run

    with FlopCounterMode(display=False) as counter:
        step("fp32", False)()
    flops = counter.get_total_flops()
    runs = {f"{p}{' channels_last_3d' if cl else ''}": step(p, cl) for p, cl in variants}
    t = alternate(runs, max(2, args.rounds // 2))
    model.to(memory_format=torch.contiguous_format)
    peaks = {"fp32": _matmul_peak(torch.float32)}
    if cpu_has_native_bf16():
        peaks["bf16"] = _matmul_peak(torch.bfloat16)
    print(f"\n## conv3d `cpu` training step (batch {config.batch_size}, {config.size[0]}x"
          f"{config.size[1]}, {flops / 1e9:.1f} GFLOP)\n")
    print("| variant | s / step | vs fp32 | GFLOP/s | matmul peak GFLOP/s |")
    print("|---|---|---|---|---|")
    for name, seconds in t.items():
        print(f"| {name} | {seconds:.3f} | {t['fp32'] / seconds:.2f}x | "
              f"{flops / seconds / 1e9:.1f} | {peaks[name[:4]]:.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="folder with kdd99/, odds/, ped2/")
    parser.add_argument("--sections", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--ped2-steps", type=int, default=100,
                        help="Adam steps of the Ped2 net before its scoring is timed")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} thread(s), CPU capability "
          f"{torch.backends.cpu.get_cpu_capability()}, native bf16: {cpu_has_native_bf16()}")
    for name in args.sections:
        globals()[f"section_{name}"](args)


if __name__ == "__main__":
    main()
