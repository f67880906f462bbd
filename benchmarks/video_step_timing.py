"""Seconds per training step of the ``cpu`` video net, float32 against bf16 autocast.

One process (one torch thread unless ``--threads``), batch 8 of random 16-frame cuboids;
the precisions alternate in rounds so that both see the same machine load, and the first
step of each round is not counted. bf16 is fast only where the CPU computes it natively
(AMX or AVX-512 BF16); elsewhere it is emulated and several times slower than float32,
and ``--precisions fp32`` times float32 alone. ``precision="bf16"`` is
:class:`memae.video.VideoConfig`'s: bf16 autocast around the forward pass, float32 memory
logits and softmax.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/video_step_timing.py --sizes 80x120 120x180
    python benchmarks/video_step_timing.py --sizes 120x180 --precisions fp32 --threads 2
"""

from __future__ import annotations

import argparse
import time

import torch

from memae.training import objective
from memae.video.detector import VideoDetector

PRECISIONS = ("fp32", "bf16")


def parse_size(text: str) -> tuple[int, int]:
    height, _, width = text.partition("x")
    return int(height), int(width)


def step_seconds(size: tuple[int, int], rounds: int, steps: int,
                 precisions: tuple[str, ...] = PRECISIONS) -> dict[str, float]:
    """Mean seconds per Adam step for each precision at ``size``."""
    config = VideoDetector.from_preset("ped2-cpu", size=size).config
    torch.manual_seed(0)
    model = VideoDetector(config).build_model().train()
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    x = torch.rand(config.batch_size, 1, config.clip_length, *size) * 2 - 1
    times: dict[str, list[float]] = {p: [] for p in precisions}
    for _ in range(rounds):
        for precision in precisions:
            for step in range(steps + 1):
                began = time.perf_counter()
                optimizer.zero_grad()
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
                    loss, _ = objective(model, x, config.entropy_weight)
                loss.backward()
                optimizer.step()
                if step:
                    times[precision].append(time.perf_counter() - began)
    return {p: sum(t) / len(t) for p, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=parse_size, default=[(80, 120), (120, 180)],
                        metavar="HxW")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--steps", type=int, default=3, help="timed steps per round")
    parser.add_argument("--precisions", nargs="+", choices=PRECISIONS, default=PRECISIONS)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = parser.parse_args()
    if args.threads < 1 or args.rounds < 1 or args.steps < 1:
        parser.error("--threads, --rounds and --steps must be >= 1")
    torch.set_num_threads(args.threads)
    precisions = tuple(dict.fromkeys(args.precisions))
    both = precisions == PRECISIONS
    names = {"fp32": "float32", "bf16": "bf16"}
    header = [names[p] + " s/step" for p in precisions] + (["ratio"] if both else [])
    print(f"{args.threads} torch thread(s), CPU capability "
          f"{torch.backends.cpu.get_cpu_capability()}")
    print("| input | " + " | ".join(header) + " |\n" + "|---" * (len(header) + 1) + "|")
    for size in args.sizes:
        seconds = step_seconds(size, args.rounds, args.steps, precisions)
        cells = [f"{seconds[p]:.3f}" for p in precisions]
        if both:
            cells.append(f"{seconds['fp32'] / seconds['bf16']:.2f}")
        print(f"| {size[0]} x {size[1]} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
