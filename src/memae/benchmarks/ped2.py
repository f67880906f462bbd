"""UCSD Ped2 frame-level AUC, the MemAE paper's video benchmark (``memae benchmark ped2``).

Protocol (Gong et al., ICCV 2019): train on the 16 training clips (normal only), score
the 12 test clips, min-max normalise scores per test clip, pool the test frames, ROC-AUC
against the ``ped2.mat`` labels. Both protocols of :mod:`memae.video.evaluate` are
reported for every model: ``per-frame`` (all 2,010 frames) in both scoring modes
(sliding: stride 1; fast: non-overlapping clips) and ``gong2019`` (the authors' test
script: one score per stride-1 clip at its 9th frame, 1,830 frames), with their frames per
second, and the pixel-level AUROC against the UCSD masks when ``ucsd_ped2_gt`` is in the
data folder.

``--config`` takes ``cpu`` (default, the ``ped2-cpu`` preset) or ``paper`` (``ped2-paper``),
optionally suffixed ``-ae`` or ``-nonspar`` for the ablation variants of
:mod:`memae.ablation` (e.g. ``cpu-ae``). Each run trains a :class:`memae.VideoDetector`
and evaluates it; the protocol is all this module adds.

``--config cpu,validation`` compares configurations without test labels: it trains on
all training clips but the last two (by name: 15 and 16), plants events in those two
(:mod:`memae.video.planted`: two kinds x three seeds x two clips) and reports the frame
AUC of each kind under both protocols; the test split is not read.
"""

from __future__ import annotations

import csv
import dataclasses
import logging
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from memae.ablation import variant_params
from memae.atomic import atomic_path
from memae.benchmarks.base import (
    BenchmarkOptions,
    BenchmarkResult,
    BenchmarkSpec,
    register_benchmark,
    result_stem,
)
from memae.data.datadir import resolve_data_dir
from memae.presets import Preset, load_preset
from memae.run_dir import locate_model
from memae.video.config import VideoConfig
from memae.video.decode import iter_frames
from memae.video.detector import VideoDetector
from memae.video.evaluate import (
    PROTOCOL_MODES,
    ModeResult,
    evaluate_mode,
    frame_auc,
    ped2_mask_name,
)
from memae.video.frames import VideoClip, discover_clips
from memae.video.labels import load_pixel_masks
from memae.video.planted import evaluate_planted, planted_videos

logger = logging.getLogger(__name__)

PAPER_AUC = {"memae": 0.941, "ae": 0.917, "nonspar": 0.929}
PAPER_NAMES = {"memae": "MemAE", "ae": "AE", "nonspar": "MemAE-nonSpar"}
PRESETS = {"cpu": "ped2-cpu", "paper": "ped2-paper"}
# --quick (the preset's benchmark.quick changes) trains on two clips and scores two.
QUICK_TEST_CLIPS = 2
# The validation protocol holds out the last training clips and plants events in them.
VALIDATION_CLIPS = 2
MODES = ("validation",)


def resolve_config(name: str | None, seed: int, quick: bool) -> tuple[str, VideoDetector]:
    """``"cpu"``, ``"paper"``, ``"cpu-ae"``, ``"paper-nonspar"``, ... -> an untrained detector.

    The presets' own names (``"ped2-cpu"``, ``"ped2-cpu-ae"``) are read as the short ones.
    """
    name = name or "cpu"
    for short, full in PRESETS.items():
        if name == full or name.startswith(full + "-"):
            name = short + name[len(full):]
    base, _, variant = name.partition("-")
    if base not in PRESETS or (variant or "memae") not in PAPER_NAMES:
        raise ValueError(f"--config: got {name!r}; expected one of {sorted(PRESETS)}, "
                         "optionally suffixed -ae or -nonspar")
    preset = load_preset(PRESETS[base])
    return name, _untrained(preset, seed, quick, variant_params(PAPER_NAMES[variant or "memae"]))


def _untrained(preset: Preset, seed: int, quick: bool, changes: dict[str, Any]
               ) -> VideoDetector:
    """The detector of a video preset with ``changes``, seeded, with its quick changes."""
    changes = {"random_state": seed, **changes, **(preset.settings.quick if quick else {})}
    return VideoDetector(VideoConfig.from_dict(preset.detector).replace(**changes))


def _ped2_root(data_dir: str | Path | None) -> Path:
    root = resolve_data_dir(data_dir) / "ped2"
    if not (root / "ped2.mat").is_file():
        raise FileNotFoundError(f"--data-dir: UCSD Ped2 not found in {root} (need ped2.mat and "
                                "training/, testing/ frame folders)")
    return root


def load_test_set(data_dir: str | Path | None, n_clips: int | None = None
                  ) -> tuple[list[VideoClip], dict[str, np.ndarray] | None]:
    """The labelled Ped2 test clips (the first ``n_clips``) and their pixel masks.

    ``data_dir`` holds ``ped2/`` (``ped2.mat``, ``training/``, ``testing/``) and, for
    the masks, ``ucsd_ped2_gt/UCSDped2_Test_gt_masks.tar.gz``; without that file the
    masks are ``None``.
    """
    root = _ped2_root(data_dir)
    clips = discover_clips(root, "testing", labels=root / "ped2.mat")[:n_clips]
    mask_file = root.parent / "ucsd_ped2_gt" / "UCSDped2_Test_gt_masks.tar.gz"
    masks = None
    if mask_file.is_file():
        masks = load_pixel_masks(mask_file, [ped2_mask_name(c.name) for c in clips])
    return clips, masks


def run(options: BenchmarkOptions) -> BenchmarkResult:
    """UCSD Ped2 frame AUC under both protocols, per seed or for the ``--model`` given.

    The pixel AUC is measured too when the pixel masks are in the data folder.
    """
    began = time.perf_counter()
    if options.variants not in (None, ("MemAE",)) or (
            options.preset is not None and options.preset.kind != "video"):
        raise ValueError("ped2 takes its variant from --config (cpu, paper, cpu-ae, ...) and "
                         "only a video preset as options.preset (memae select --preset "
                         "ped2-cpu).")
    if options.jobs > 1:
        raise ValueError(f"--jobs {options.jobs}: ped2 trains one video model at a time; to "
                         "use more cores, run one command per seed side by side (--seeds S "
                         "--out DIR_S), or give it more --threads.")
    seeds = options.seeds or (0,)
    parts = [p for p in (options.config or "").split(",") if p]
    names = [p for p in parts[:1] if p not in MODES and options.preset is None]
    asked = tuple(parts[len(names):])
    unknown = [m for m in asked if m not in MODES]
    if unknown:
        raise ValueError(f"--config: unknown mode(s) {unknown}; ped2 has {list(MODES)} "
                         "(e.g. --config cpu,validation)")
    options = dataclasses.replace(options, config=names[0] if names else None)
    train_clips = discover_clips(_ped2_root(options.data_dir), "training")
    if "validation" in asked:
        return _run_validation(options, seeds, train_clips, began)
    test_clips, masks = load_test_set(options.data_dir,
                                      QUICK_TEST_CLIPS if options.quick else None)
    if options.quick:
        train_clips = train_clips[:2]
    rows: list[dict[str, Any]] = []
    settings: dict[str, Any] = {}
    label, modes = _label(options)
    for name, seed, detector, described in _detectors(options, seeds, train_clips):
        settings = described
        stem = options.out_dir / result_stem("ped2", label, (seed,), modes, options.quick)
        if options.model is None:
            detector.save(stem.with_name(stem.name + ".safetensors"))
        results = []
        for mode in (m for modes_ in PROTOCOL_MODES.values() for m in modes_):
            result = evaluate_mode(detector, test_clips, mode, masks)
            logger.info("ped2 %s seed %d %s: frame AUC %.4f", name, seed, mode,
                        result.frame_auc)
            row = {
                "config": name, "seed": seed, "protocol": result.protocol, "mode": mode,
                "stride": result.stride, "n_frames": sum(len(f) for f in result.frames),
                "frame_auc": result.frame_auc, "pixel_auc": result.pixel_auc,
                "frames_per_second": result.frames_per_second,
                "train_seconds": detector.training_.get("fit_seconds") or 0.0,
                "train_steps": detector.history_.steps,
            }
            if result.protocol == "per-frame" and detector.config.temporal_smoothing > 1:
                row["frame_auc_unsmoothed"] = frame_auc(
                    result.raw_scores, [np.asarray(c.labels) for c in test_clips])
            rows.append(row)
            results.append(result)
        write_frame_scores(stem.with_name(stem.name + "_scores.csv"), test_clips, results)
    variant = (options.config or "cpu").partition("-")[2] or "memae"
    if options.model is not None:
        config = detector.config
        variant = ("ae" if not config.memory else
                   "nonspar" if config.shrink_threshold == 0 else "memae")
    summary = {
        "frame_auc_sliding": _mean(rows, "sliding", "frame_auc"),
        "frame_auc_fast": _mean(rows, "fast", "frame_auc"),
        "pixel_auc_sliding": _mean(rows, "sliding", "pixel_auc"),
        "frame_auc_gong2019": _mean(rows, "gong2019", "frame_auc"),
        "pixel_auc_gong2019": _mean(rows, "gong2019", "pixel_auc"),
        "paper_frame_auc": PAPER_AUC[variant],
        "paper_variant": PAPER_NAMES[variant],
        "n_test_frames": sum(c.n_frames for c in test_clips),
    }
    trained = [int(row["seed"]) for row in rows if row["mode"] == "sliding"]
    return BenchmarkResult("ped2", rows, summary, _markdown(rows, summary),
                           time.perf_counter() - began, settings, label,
                           tuple(trained), modes)


def _run_validation(options: BenchmarkOptions, seeds: Sequence[int],
                    clips: list[VideoClip], began: float) -> BenchmarkResult:
    """Train on all clips but the last two and score planted events in those two."""
    if options.model is not None:
        raise ValueError("--model with --config ...,validation: the validation protocol "
                         "trains on a subset of the training clips; drop --model")
    if len(clips) <= VALIDATION_CLIPS:
        raise ValueError(f"ped2 validation needs more than {VALIDATION_CLIPS} training clips, "
                         f"found {len(clips)}")
    train, held = clips[:-VALIDATION_CLIPS], clips[-VALIDATION_CLIPS:]
    if options.quick:
        train = train[:2]
    label, variant = _label(options)
    rows: list[dict[str, Any]] = []
    settings: dict[str, Any] = {}
    videos: dict[tuple[int, int], list] = {}  # planted videos by frame size, for every seed
    for name, seed, detector, described in _detectors(options, seeds, train):
        settings = {**described, "validation_clips": [c.name for c in held]}
        size = detector.config.size
        if size not in videos:
            videos[size] = planted_videos([np.stack(list(iter_frames(c, size))) for c in held])
        aucs = evaluate_planted(detector, videos[size])
        for protocol, kinds in aucs.items():
            for kind, auc in kinds.items():
                rows.append({"config": name, "seed": seed, "protocol": protocol,
                             "kind": kind, "frame_auc": auc,
                             "train_seconds": detector.training_.get("fit_seconds") or 0.0})
    summary = {f"validation_auc_{p.replace('-', '_')}":
               float(np.mean([r["frame_auc"] for r in rows if r["protocol"] == p]))
               for p in PROTOCOL_MODES}
    summary["validation_auc"] = float(np.mean([r["frame_auc"] for r in rows]))
    lines = ["| config | seed | protocol | planted event | frame AUC | train s |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {r['config']} | {r['seed']} | {r['protocol']} | {r['kind']} | "
              f"{r['frame_auc']:.4f} | {r['train_seconds']:.0f} |" for r in rows]
    lines += ["", f"Held-out training clips {[c.name for c in held]} with planted events "
              f"(memae.video.planted); mean frame AUC {summary['validation_auc']:.4f}. "
              "The test split is not read."]
    return BenchmarkResult("ped2", rows, summary, "\n".join(lines),
                           time.perf_counter() - began, settings, label,
                           tuple(seeds), (*variant, "validation"))


def validation_metrics(result: BenchmarkResult) -> dict[str, float]:
    """The selection metrics of a ``--config ...,validation`` run: mean frame AUCs."""
    summary = result.summary
    return {"frame AUC": summary["validation_auc"],
            "per-frame": summary["validation_auc_per_frame"],
            "gong2019": summary["validation_auc_gong2019"]}


def _label(options: BenchmarkOptions) -> tuple[str, tuple[str, ...]]:
    """What the run's files are named by.

    The preset and the variant (``ae``, ``nonspar``), or ``model-<run directory>``
    for ``--model``.
    """
    if options.model is not None:
        return f"model-{locate_model(options.model)[1].root.name}", ()
    if options.preset is not None:
        return options.preset.name, ()
    base, _, variant = (options.config or "cpu").partition("-")
    return PRESETS.get(base, base), (variant,) if variant else ()


def _detectors(options: BenchmarkOptions, seeds: Sequence[int],
               train_clips: Sequence[VideoClip]
               ) -> Iterator[tuple[str, int, VideoDetector, dict[str, Any]]]:
    """Yield ``(name, seed, trained detector, settings)`` for each model to evaluate.

    That is the ``--model`` given, or else one detector trained per seed.
    """
    if options.model is not None:
        detector = VideoDetector.load(locate_model(options.model)[0], device=options.device)
        logger.info("ped2: evaluating %s", options.model)
        yield ("model", detector.config.random_state, detector,
               {"config_name": "model", "model": str(options.model),
                "config": detector.config.to_dict()})
        return
    for seed in seeds:
        if options.preset is not None:
            name = options.preset.name
            detector = _untrained(options.preset, seed, options.quick, {})
        else:
            name, detector = resolve_config(options.config, seed, options.quick)
        detector.device, detector.verbose = options.device, not options.quick
        logger.info("ped2 %s seed %d: training on %d clips", name, seed, len(train_clips))
        yield (name, seed, detector.fit(train_clips),
               {"config_name": name, "preset": PRESETS.get(name.partition("-")[0], name),
                "config": detector.config.to_dict()})


def write_frame_scores(path: Path, clips: Sequence[VideoClip],
                       results: Sequence[ModeResult]) -> None:
    """Write every evaluated frame's raw score per mode: ``mode,clip,frame,label,score``.

    ``frame`` counts from 0 within its clip; ``score`` is before temporal smoothing and
    min-max normalisation (:attr:`ModeResult.raw_scores`). Under ``gong2019`` only the
    frames that get a clip score are written.
    """
    with atomic_path(path, "frame scores file") as tmp, tmp.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["mode", "clip", "frame", "label", "score"])
        for result in results:
            for clip, frames, scores in zip(clips, result.frames, result.raw_scores,
                                            strict=True):
                labels = np.asarray(clip.labels)[frames]
                for index, label, score in zip(frames, labels, scores, strict=True):
                    writer.writerow([result.mode, clip.name, int(index), int(label),
                                     repr(float(score))])


def _mean(rows: list[dict], mode: str, key: str) -> float | None:
    values = [r[key] for r in rows if r["mode"] == mode and r[key] is not None]
    return sum(values) / len(values) if values else None


def _markdown(rows: list[dict], summary: dict) -> str:
    lines = ["| config | seed | protocol | mode | stride | frames | frame AUC | pixel AUC "
             "| frames/s | train s |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        pixel = "n/a" if r["pixel_auc"] is None else f"{r['pixel_auc']:.4f}"
        lines.append(f"| {r['config']} | {r['seed']} | {r['protocol']} | {r['mode']} | "
                     f"{r['stride']} | {r['n_frames']} | "
                     f"{r['frame_auc']:.4f} | {pixel} | {r['frames_per_second']:.1f} | "
                     f"{r['train_seconds']:.0f} |")
    lines.append("")
    lines.append(f"Paper ({summary['paper_variant']}, Ped2 frame AUC): "
                 f"{summary['paper_frame_auc']:.3f}; {summary['n_test_frames']} test frames.")
    return "\n".join(lines)


register_benchmark(BenchmarkSpec(
    "ped2", "UCSD Ped2 frame-level AUC (and pixel AUROC) of the video MemAE", run,
    validation_metrics=validation_metrics))
