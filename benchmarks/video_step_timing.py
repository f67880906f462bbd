"""Seconds per training step of the ``cpu`` video net, float32 against bf16 autocast.

One process, one torch thread, batch 8 of random 16-frame cuboids; the two precisions
alternate in rounds so that both see the same machine load, and the first step of each
round is not counted. ``precision="bf16"`` is :class:`memae.video.VideoConfig`'s: bf16
autocast around the forward pass, float32 memory logits and softmax.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/video_step_timing.py --sizes 80x120 120x180
"""

from __future__ import annotations

import argparse
import time

import torch

from memae.training import objective
from memae.video import video_config
from memae.video.train import build_video_model

PRECISIONS = ("fp32", "bf16")


def parse_size(text: str) -> tuple[int, int]:
    height, _, width = text.partition("x")
    return int(height), int(width)


def step_seconds(size: tuple[int, int], rounds: int, steps: int) -> dict[str, float]:
    """Mean seconds per Adam step for each precision at ``size``."""
    config = video_config("cpu", size=size)
    torch.manual_seed(0)
    model = build_video_model(config).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    x = torch.rand(config.batch_size, 1, config.clip_length, *size) * 2 - 1
    times: dict[str, list[float]] = {p: [] for p in PRECISIONS}
    for _ in range(rounds):
        for precision in PRECISIONS:
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
    args = parser.parse_args()
    torch.set_num_threads(1)
    print("| input | float32 s/step | bf16 s/step | ratio |\n|---|---|---|---|")
    for size in args.sizes:
        seconds = step_seconds(size, args.rounds, args.steps)
        print(f"| {size[0]} x {size[1]} | {seconds['fp32']:.3f} | {seconds['bf16']:.3f} | "
              f"{seconds['fp32'] / seconds['bf16']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
