"""Ped2: memory-aware frame scores, measured on held-out training clips with planted events.

No test clip or test label is read. A model trained on training clips 01-14
(``ped2_heldout.py train``) scores training clips 15 and 16, unmodified (normal
references) and with one planted event each (two kinds x three seeds x two clips = 12
validation videos); the events are kinds the training never produced:

- ``fast_object``: a 16 x 8 px patch (at 80 x 120, a pedestrian's size) cut around the
  strongest motion of a frame of the *other* held-out clip (a walker), pasted with a
  smooth border and sliding sideways at 0.75 px per frame for 40 frames (about twice
  walking pace; a rigid object moving fast, as Ped2's bikes and carts);
- ``fast_band``: a horizontal band a fifth of the frame high, where the most moves,
  plays twice as fast as the rest for 40 frames (walkers at a cyclist's speed).

Round 2 (``--round 2``), written after round 1 found its events as easy for a 3-step
model as for a trained one (they add motion energy where little moves): two object
kinds calibrated, with the frame differences' energy alone and no model, to a frame AUC
near 0.7 instead of 0.99: ``faint_object`` (the same object at 30% contrast) and
``slow_object`` (at walking pace, 0.33 px per frame, and 50% contrast). Same signals,
candidates and rule.

Signals, per stride-1 window: ``pixel`` (the preset's per-frame score: mean squared
error of a frame's error map, averaged over the windows that contain it; under
``gong2019`` the mean root error of the window at its middle frame); ``mem_mean`` and
``mem_max``, the mean and the largest squared distance ``|z - z_hat|^2`` of the
window's latent codes to their memory read-outs (a frame gets the mean over the
windows that contain it under ``per-frame``); ``norm_max``, the largest code norm, and
``energy``, the mean square of the model's input (motion energy), diagnostics only; and
``pixel+mem_mean``, ``pixel+mem_max``, sums of the two signals each standardised by its
mean and standard deviation on the unmodified clips 15 and 16 (held-out normal windows).
``per-frame`` applies the preset's 7-frame moving average to every signal; both protocols
min-max normalise each video and pool the frames.

Rule, fixed before the first run: a candidate's value is the mean of its four AUCs (two
event kinds x two protocols). The candidates are ``pixel``, ``mem_mean``, ``mem_max``,
``pixel+mem_mean`` and ``pixel+mem_max``; the highest value wins, but ``pixel`` (today's
score, the cheapest) stays unless the winner beats it by at least 0.005. The winner is
then evaluated once on Ped2's test set, for MemAE against the plain AE's ``pixel``
(trained identically on clips 01-14).

    OMP_NUM_THREADS=1 python docs/experiments/scripts/ped2_memory_scores.py \
        --data ../shared/data/ped2 --model runs/heldout_memae_s0.safetensors --out OUT.json

``--test SCORE`` instead scores Ped2's 12 test clips with that one signal (standardised,
for a sum, on the unmodified clips 15 and 16 as above) and reports its frame AUC under
both protocols: the one test evaluation the rule allows.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence

import numpy as np
import torch

from memae import VideoDetector
from memae.models.inference import for_scoring
from memae.video import discover_clips, iter_frames, model_inputs
from memae.video.evaluate import frame_auc
from memae.video.planted import plant_event
from memae.video.temporal import moving_average

HELD_OUT = ("15", "16")
# Event kinds per round (memae.video.planted).
ROUNDS = {1: ("fast_object", "fast_band"), 2: ("faint_object", "slow_object")}
SEEDS = (0, 1, 2)
CANDIDATES = ("pixel", "mem_mean", "mem_max", "pixel+mem_mean", "pixel+mem_max")
MARGIN = 0.005


@torch.no_grad()
def window_signals(model, inputs: np.ndarray, clip_length: int,
                   batch: int = 16) -> dict[str, np.ndarray]:
    """Per stride-1 window: per-frame error means, root-error mean, latent distances."""
    n = len(inputs)
    starts = np.arange(n - clip_length + 1)
    frame_err, root, mem_mean, mem_max, norm_max, energy = [], [], [], [], [], []
    for chunk in np.array_split(starts, max(1, len(starts) // batch)):
        x = torch.from_numpy(np.stack([inputs[s:s + clip_length] for s in chunk]))[:, None]
        z = model.encoder(x)
        if model.memory is not None:
            z_hat = model.memory(z).output
        else:
            z_hat = z
        err = (model.decoder(z_hat, tuple(x.shape[2:])) - x) ** 2  # (B, 1, T, H, W)
        err = err.sum(dim=1)
        frame_err.append(err.mean(dim=(2, 3)).numpy())
        root.append(err.sqrt().mean(dim=(1, 2, 3)).numpy())
        distance = ((z - z_hat) ** 2).sum(dim=1).flatten(1)  # (B, cells)
        mem_mean.append(distance.mean(dim=1).numpy())
        mem_max.append(distance.amax(dim=1).numpy())
        norm_max.append(z.norm(dim=1).flatten(1).amax(dim=1).numpy())
        energy.append((x ** 2).mean(dim=(1, 2, 3, 4)).numpy())
    return {"frame_err": np.concatenate(frame_err), "root": np.concatenate(root),
            "mem_mean": np.concatenate(mem_mean), "mem_max": np.concatenate(mem_max),
            "norm_max": np.concatenate(norm_max), "energy": np.concatenate(energy)}


def protocol_scores(signals: dict[str, np.ndarray], n: int, clip_length: int,
                    smoothing: int) -> dict[str, dict[str, np.ndarray]]:
    """Raw signals per protocol: ``per-frame`` (every frame) and ``gong2019`` (frames 8..)."""
    counts = np.zeros(n)
    sums = {k: np.zeros(n) for k in ("pixel", "mem_mean", "mem_max", "norm_max", "energy")}
    for s in range(len(signals["root"])):
        counts[s:s + clip_length] += 1
        sums["pixel"][s:s + clip_length] += signals["frame_err"][s]
        for key in ("mem_mean", "mem_max", "norm_max", "energy"):
            sums[key][s:s + clip_length] += signals[key][s]
    per_frame = {k: moving_average(v / counts, smoothing) for k, v in sums.items()}
    gong = {"pixel": signals["root"], **{k: signals[k] for k in
                                         ("mem_mean", "mem_max", "norm_max", "energy")}}
    return {"per-frame": per_frame, "gong2019": gong}


def with_combinations(scores: dict[str, np.ndarray],
                      reference: dict[str, tuple[float, float]]) -> dict[str, np.ndarray]:
    """``scores`` and the two standardised sums."""
    def z(key: str) -> np.ndarray:
        mean, std = reference[key]
        return (scores[key] - mean) / (std or 1.0)  # std 0: a plain AE's constant signals
    return {**scores, "pixel+mem_mean": z("pixel") + z("mem_mean"),
            "pixel+mem_max": z("pixel") + z("mem_max")}


def test_evaluation(args, config, scores_of, reference, middle) -> dict[str, float]:
    """Frame AUC of signal ``args.test`` on Ped2's test clips, under both protocols."""
    test = discover_clips(args.data, "testing", labels=f"{args.data}/ped2.mat")
    collected: dict[str, tuple[list, list]] = {"per-frame": ([], []), "gong2019": ([], [])}
    for clip in sorted(test, key=lambda c: c.name):
        video = np.stack(list(iter_frames(clip, config.size)))
        labels = np.asarray(clip.labels, dtype=bool)
        for protocol, scores in scores_of(video).items():
            value = with_combinations(scores, reference[protocol])[args.test]
            truth = labels if protocol == "per-frame" else labels[middle:middle + len(value)]
            collected[protocol][0].append(value)
            collected[protocol][1].append(truth)
    return {protocol: frame_auc(s, y) for protocol, (s, y) in collected.items()}


def main(argv: Sequence[str] | None = None) -> None:
    """Score the held-out clips (or, with ``--test``, the test clips) and print the AUCs."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--test", choices=CANDIDATES)
    parser.add_argument("--round", type=int, choices=sorted(ROUNDS), default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    began = time.perf_counter()
    detector = VideoDetector.load(args.model)
    config = detector.config
    model = for_scoring(detector.model_)
    clips = {c.name: c for c in discover_clips(args.data, "training")}
    frames = {name: np.stack(list(iter_frames(clips[name], config.size)))
              for name in HELD_OUT}

    def scores_of(video: np.ndarray) -> dict[str, dict[str, np.ndarray]]:
        inputs = np.stack(list(model_inputs(iter(video), config.input_signal)))
        signals = window_signals(model, inputs, config.clip_length)
        return protocol_scores(signals, len(video), config.clip_length,
                               config.temporal_smoothing)

    normal = [scores_of(frames[name]) for name in HELD_OUT]
    def moments(protocol: str, key: str) -> tuple[float, float]:
        values = np.concatenate([s[protocol][key] for s in normal])
        return float(np.mean(values)), float(np.std(values))

    reference = {protocol: {key: moments(protocol, key) for key in normal[0][protocol]}
                 for protocol in ("per-frame", "gong2019")}
    middle = config.clip_length // 2
    if args.test:
        test_aucs = test_evaluation(args, config, scores_of, reference, middle)
        with open(args.out, "w") as handle:
            json.dump({"model": args.model, "score": args.test, "aucs": test_aucs,
                       "seconds": time.perf_counter() - began}, handle, indent=1)
        print(args.test, test_aucs)
        return
    aucs: dict[str, dict[str, dict[str, float]]] = {}
    kinds = ROUNDS[args.round]
    for kind in kinds:
        collected: dict[str, dict[str, list]] = {"per-frame": {}, "gong2019": {}}
        for name in HELD_OUT:
            other = frames[HELD_OUT[1 - HELD_OUT.index(name)]]
            for seed in SEEDS:
                video, labels = plant_event(frames[name], other, kind, seed + 100 * int(name))
                by_protocol = scores_of(video)
                for protocol, scores in by_protocol.items():
                    scores = with_combinations(scores, reference[protocol])
                    truth = labels if protocol == "per-frame" else \
                        labels[middle:middle + len(scores["pixel"])]
                    for key, value in scores.items():
                        entry = collected[protocol].setdefault(key, [[], []])
                        entry[0].append(value)
                        entry[1].append(truth)
        aucs[kind] = {protocol: {key: frame_auc(s, y) for key, (s, y) in table.items()}
                      for protocol, table in collected.items()}
    value = {key: float(np.mean([aucs[k][p][key] for k in kinds
                                 for p in ("per-frame", "gong2019")]))
             for key in (*CANDIDATES, "norm_max", "energy")}
    best = max(CANDIDATES, key=lambda k: value[k])
    chosen = best if value[best] >= value["pixel"] + MARGIN else "pixel"
    result = {"model": args.model, "round": args.round,
              "memory": model.memory is not None, "aucs": aucs, "value": value,
              "best": best, "chosen": chosen,
              "seconds": time.perf_counter() - began}
    with open(args.out, "w") as handle:
        json.dump(result, handle, indent=1)
    for kind in kinds:
        for protocol in ("per-frame", "gong2019"):
            row = "  ".join(f"{k} {v:.4f}" for k, v in aucs[kind][protocol].items())
            print(f"{kind:12s} {protocol:9s} {row}")
    print("value:", "  ".join(f"{k} {v:.4f}" for k, v in value.items()))
    print("best", best, "chosen", chosen, f"{result['seconds']:.0f} s")


if __name__ == "__main__":
    main()
