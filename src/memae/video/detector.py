"""``VideoDetector``: train a video MemAE on normal clips and score every frame of a video.

The video counterpart of :class:`memae.MemAEDetector`, through the same training
loop (:func:`memae.training.train`: checkpoints and resume, early stopping on
held-out clips, learning-rate schedule, step budget, precision, DDP), the same
model-file schema (:mod:`memae.model_file`, ``kind: video``) and the same
parameter names and rules. Training windows are read lazily
(:class:`memae.video.ClipDataset`, optionally by DataLoader workers); scoring
streams a video front to back (:func:`memae.video.score_frames`), so memory stays
bounded whatever its length.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from memae.detector import resolve_device
from memae.distributed import distributed_context, wrap_data_parallel
from memae.model_file import (
    ModelFileError,
    corrupt_file,
    field_error,
    file_error,
    model_target,
    read_model_file,
    write_model_file,
)
from memae.models import MemAutoEncoder, create_model
from memae.presets import load_preset
from memae.training import TrainingHistory, TrainSettings, train
from memae.training_checkpoint import CheckpointRun
from memae.video.clips import ClipDataset
from memae.video.config import VideoConfig
from memae.video.decode import iter_frames, open_clip
from memae.video.frames import VideoClip, discover_clips, frame_folder_clips, video_file_clips
from memae.video.score import (
    FrameScore,
    ScoreReference,
    score_clips,
    score_frames,
    smooth_map,
    window_signals,
)
from memae.video.signal import model_inputs
from memae.video.temporal import moving_average, smooth_stream

__all__ = ["VideoDetector", "resolve_clips"]

# Training windows used to calibrate the colour scale of anomaly maps after training.
N_REFERENCE_WINDOWS = 32
# Settings that say how to run, not what the model is; not stored as part of the config.
RUN_SETTINGS = ("device", "verbose", "score_batch_size")


def resolve_clips(source: VideoClip | str | Path | Sequence[VideoClip | str | Path]
                  ) -> list[VideoClip]:
    """The clips of ``source``: clips as they are, or paths.

    Each path is one of

    - a video file (``.mp4``, ``.avi``, ...) or a folder of frame images: one clip;
    - a dataset folder laid out as :func:`memae.video.discover_clips` reads
      (``training/frames/<clip>/``, UCSD's ``Train/Train001/``, ...): its training clips;
    - a folder of clip folders and/or video files: one clip each (also inside its
      ``frames/`` or ``videos/`` sub-folder, as a dataset's split folder holds them).
    """
    items = [source] if isinstance(source, (str, Path, VideoClip)) else list(source)
    if not items:
        raise ValueError("clips: got an empty sequence; pass video files, frame folders or "
                         "a dataset folder")
    clips: list[VideoClip] = []
    for item in items:
        clips.extend([item] if isinstance(item, VideoClip) else _path_clips(Path(item)))
    return clips


def _path_clips(path: Path) -> list[VideoClip]:
    if not path.exists():
        raise FileNotFoundError(f"clips: {str(path)!r} does not exist; pass a video file, a "
                                "frame folder or a folder of them")
    if path.is_file():
        return [open_clip(path)]
    try:
        return [open_clip(path)]
    except FileNotFoundError:
        pass  # no frames directly inside: a dataset or a folder of clips
    try:
        return discover_clips(path, "training")
    except FileNotFoundError:
        pass
    clips: list[VideoClip] = []
    for folder in (path, path / "frames", path / "videos"):
        if clips or not folder.is_dir():
            continue
        for lister in (frame_folder_clips, video_file_clips):
            try:
                clips.extend(lister(folder))
            except FileNotFoundError:
                continue
    if not clips:
        raise FileNotFoundError(
            f"clips: {str(path)!r} holds no frame images, clip folders, video files or "
            "training/ split; pass a video file, a frame folder or a folder of them")
    return clips


def _describe(clips: Sequence[VideoClip]) -> dict[str, Any]:
    """What identifies the training clips, for checkpoint fingerprints."""
    def source(clip: VideoClip) -> str:
        return str(clip.source if isinstance(clip.source, Path) else clip.source[0].parent)
    return {"clips": [[c.name, source(c), c.n_frames] for c in clips]}


class VideoDetector:
    """Memory-augmented autoencoder for video: per-frame anomaly scores (Gong et al., 2019).

    Parameters
    ----------
    config:
        The model, training and scoring settings (:class:`memae.video.VideoConfig`);
        ``None``: its defaults, the paper's setting.
    device:
        ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:N"``.
    verbose:
        Show a progress bar over training batches.
    score_batch_size:
        Windows per forward pass when scoring.
    **settings:
        Fields of :class:`VideoConfig` replacing those of ``config``
        (``VideoDetector(epochs=2, size=(64, 64))``).

    Attributes
    ----------
    model_:
        The trained :class:`memae.models.MemAutoEncoder`, in eval mode.
    history_:
        :class:`memae.training.TrainingHistory`.
    training_:
        ``n_train_clips``, ``n_val_clips``, ``n_windows``, ``fit_seconds`` and
        ``map_scale`` (99.9th percentile of the smoothed per-pixel errors of
        training windows: the top of the colour scale of overlays) and, for a model
        with a memory, ``score_reference``: the mean and standard deviation of a
        frame's mean squared error, a window's mean root error and its memory
        distance on normal windows (those of the held-out clips when
        ``validation_fraction > 0``, else evenly spaced training windows), which
        ``frame_score="reconstruction+memory"`` standardises by.
    """

    def __init__(self, config: VideoConfig | None = None, *, device: str = "auto",
                 verbose: bool = False, score_batch_size: int = 16, **settings: Any) -> None:
        config = VideoConfig() if config is None else config
        self.config = config.replace(**settings) if settings else config
        if isinstance(score_batch_size, bool) or not isinstance(score_batch_size, int) \
                or score_batch_size < 1:
            raise ValueError(f"score_batch_size: got {score_batch_size!r}; expected an int >= 1")
        self.device, self.verbose, self.score_batch_size = device, verbose, score_batch_size

    @classmethod
    def from_preset(cls, name: str, **settings: Any) -> VideoDetector:
        """A detector of the video preset ``name`` (``memae presets``), with ``settings``."""
        run = {k: settings.pop(k) for k in RUN_SETTINGS if k in settings}
        return cls(preset_config(name).replace(**settings), **run)

    def get_params(self) -> dict[str, Any]:
        """The config's fields and the run settings, as one flat dict."""
        return {**self.config.to_dict(), "device": self.device, "verbose": self.verbose,
                "score_batch_size": self.score_batch_size}

    def __repr__(self) -> str:
        return f"VideoDetector({self.config!r})"

    # ----------------------------------------------------------------- fitting
    def build_model(self) -> MemAutoEncoder:
        """The untrained network of the config, initialised from ``random_state``."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.config.random_state)
            return create_model(self.config.model, **self.config.network_params)

    def _dataset(self, clips: Sequence[VideoClip], stride: int) -> ClipDataset:
        config = self.config
        return ClipDataset(clips, length=config.clip_length, stride=stride,
                           step=config.frame_step, size=config.size,
                           cache_frames=config.cache_frames, signal=config.input_signal)

    def _split(self, clips: list[VideoClip]) -> tuple[list[VideoClip], list[VideoClip]]:
        """Training and held-out clips: ``validation_fraction`` of whole clips, seeded."""
        n_val = int(round(self.config.validation_fraction * len(clips)))
        if self.config.validation_fraction > 0:
            n_val = max(1, n_val)
        if n_val and len(clips) - n_val < 1:
            raise ValueError(f"validation_fraction={self.config.validation_fraction} holds out "
                             f"every one of the {len(clips)} training clips; pass more clips "
                             "or lower validation_fraction")
        order = np.random.default_rng(self.config.random_state).permutation(len(clips))
        held = set(order[:n_val].tolist())
        return ([c for i, c in enumerate(clips) if i not in held],
                [c for i, c in enumerate(clips) if i in held])

    def fit(self, clips: VideoClip | str | Path | Sequence[VideoClip | str | Path], *,
            checkpoint_dir: str | Path | None = None, resume: bool = False) -> VideoDetector:
        """Train on the windows of ``clips`` (every frame assumed normal).

        Parameters
        ----------
        clips:
            Clips, or paths as :func:`resolve_clips` reads them.
        checkpoint_dir, resume:
            As in :meth:`memae.MemAEDetector.fit`: a checkpoint after every
            epoch; resuming continues bit for bit (CPU) with the same clips and
            settings, and refuses a checkpoint of another run.
        """
        began = time.perf_counter()
        config = self.config
        all_clips = resolve_clips(clips)
        train_clips, val_clips = self._split(all_clips)
        self.device_ = resolve_device(self.device)
        dataset = self._dataset(train_clips, config.train_stride)
        held_out = self._dataset(val_clips, config.clip_length) if val_clips else None
        run = CheckpointRun.open(checkpoint_dir, resume, self.config.to_dict(),
                                 _describe(all_clips))
        settings = TrainSettings(
            epochs=config.epochs, batch_size=config.batch_size,
            learning_rate=config.learning_rate, weight_decay=config.weight_decay,
            entropy_weight=config.entropy_weight, patience=config.patience,
            lr_schedule=config.lr_schedule, max_steps=config.max_steps,
            precision=config.precision, num_workers=config.num_workers,
            pseudo_anomaly=config.pseudo_anomaly,
            pseudo_anomaly_kind=config.pseudo_anomaly_kind)
        rank, world_size = distributed_context()
        model = self.build_model().to(self.device_)
        generator = torch.Generator().manual_seed(config.random_state)
        self.history_ = train(
            wrap_data_parallel(model, self.device_), dataset, held_out, settings,
            generator=generator, device=self.device_, verbose=bool(self.verbose),
            resume_from=run.state,
            on_epoch_end=run.writer(config.random_state) if rank == 0 else None,
            rank=rank, world_size=world_size)
        self.model_ = model.eval()
        map_scale, (errors, distances) = self._reference_signals(dataset)
        if held_out is not None:
            errors, distances = self._reference_signals(held_out)[1]
        reference = None
        if distances is not None:
            reference = {"error": _moments(errors.mean(dim=(2, 3))),
                         "root_error": _moments(errors.sqrt().mean(dim=(1, 2, 3))),
                         "memory": _moments(distances)}
        self.training_: dict[str, Any] = {
            "n_train_clips": len(train_clips), "n_val_clips": len(val_clips),
            "n_windows": len(dataset), "fit_seconds": time.perf_counter() - began,
            "map_scale": map_scale, "score_reference": reference,
        }
        return self

    def _reference_signals(self, dataset: ClipDataset
                           ) -> tuple[float, tuple[torch.Tensor, torch.Tensor | None]]:
        """Signals of evenly spaced windows of ``dataset``, as normal footage gives them.

        The 99.9th percentile of the smoothed per-pixel errors (what the anomaly maps of
        normal footage reach), and the windows' errors and memory distances
        (:func:`memae.video.score.window_signals`).
        """
        items = np.unique(np.linspace(0, len(dataset) - 1, N_REFERENCE_WINDOWS).astype(int))
        windows = torch.stack([dataset[int(i)].frames for i in items]).to(self.device_)
        signals = [window_signals(self.model_, chunk, True)
                   for chunk in windows.split(self.score_batch_size)]
        errors = torch.cat([e for e, _ in signals]).cpu()
        parts = [d for _, d in signals if d is not None]
        distances = torch.cat(parts).cpu() if parts else None
        scale = float(np.quantile(smooth_map(errors, self.config.smoothing).numpy(), 0.999))
        return scale, (errors, distances)

    def score_reference(self) -> ScoreReference | None:
        """What ``frame_score="reconstruction+memory"`` standardises by; ``None`` otherwise.

        Raises
        ------
        ValueError
            If the config asks for that score and the model has no reference (a model
            without a memory, or a file written before this score existed).
        """
        if self.config.frame_score == "reconstruction":
            return None
        stored = self.training_.get("score_reference")
        if stored is None:
            raise ValueError(
                "frame_score: 'reconstruction+memory' needs a model with a memory and the "
                "score reference its training stores; retrain with memory=True or use "
                "frame_score='reconstruction'")
        return ScoreReference(**{k: tuple(v) for k, v in stored.items()})

    # ----------------------------------------------------------------- scoring
    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise ValueError("this VideoDetector is not fitted yet; call fit(clips) or "
                             "VideoDetector.load(path) first")

    def stride(self, fast: bool = False) -> int:
        """Window stride of the sliding (default) or the fast scoring mode."""
        return self.config.resolved_fast_stride if fast else self.config.score_stride

    def _inputs(self, frames: VideoClip | str | Path | Iterator[np.ndarray]
                ) -> Iterable[np.ndarray]:
        """What the model reads from a clip, a video file or frame folder, or frames."""
        self._check_fitted()
        if isinstance(frames, (str, Path)):
            frames = open_clip(frames)
        if isinstance(frames, VideoClip):
            frames = iter_frames(frames, self.config.size)
        return model_inputs(frames, self.config.input_signal)

    def raw_scores(self, frames: VideoClip | str | Path | Iterator[np.ndarray], *,
                   fast: bool = False, keep_maps: bool = False) -> Iterator[FrameScore]:
        """Frame scores (and maps) of one video before temporal smoothing, streamed.

        ``frames`` is a clip, a video file or frame folder, or an iterator of
        preprocessed frames (float32 ``(H, W)`` in [-1, 1] at ``config.size``, as
        :func:`memae.video.iter_frames` yields them).
        """
        inputs = self._inputs(frames)
        return score_frames(self.model_, inputs, self.config, stride=self.stride(fast),
                            batch_size=self.score_batch_size, device=self.device_,
                            keep_maps=keep_maps, reference=self.score_reference())

    def clip_scores(self, frames: VideoClip | str | Path | Iterator[np.ndarray], *,
                    keep_maps: bool = False) -> Iterator[FrameScore]:
        """One score per stride-1 window, at its middle frame (the ``gong2019`` protocol).

        The mean of ``sqrt(sum over channels of r^2)`` over the window, as in Gong et
        al.'s released test script (:func:`memae.video.score.score_clips`); frames
        before the first window's middle and after the last one's get none.
        ``frames`` as for :meth:`raw_scores`.
        """
        inputs = self._inputs(frames)
        return score_clips(self.model_, inputs, self.config, batch_size=self.score_batch_size,
                           device=self.device_, keep_maps=keep_maps,
                           reference=self.score_reference())

    def score_stream(self, frames: VideoClip | str | Path | Iterator[np.ndarray], *,
                     fast: bool = False, keep_maps: bool = False) -> Iterator[FrameScore]:
        """The model's frame scores, streamed; higher is more anomalous.

        These are :meth:`raw_scores` after the config's ``temporal_smoothing``.
        """
        return smooth_stream(self.raw_scores(frames, fast=fast, keep_maps=keep_maps),
                             self.config.temporal_smoothing)

    def decision_function(self, frames: VideoClip | str | Path | Iterator[np.ndarray], *,
                          fast: bool = False) -> np.ndarray:
        """Anomaly score of every frame of one video ``(n_frames,)``, higher = more anomalous.

        Scores are comparable within a video; the paper's evaluation rescales each
        test video to [0, 1] (:func:`memae.video.frame_auc`).
        """
        raw = np.array([r.score for r in self.raw_scores(frames, fast=fast)])
        return moving_average(raw, self.config.temporal_smoothing)

    # ------------------------------------------------------------- persistence
    def save(self, path: str | Path) -> Path:
        """Write the model and its config to one model file (atomically, ``kind: video``)."""
        path = model_target(path)
        self._check_fitted()
        history = self.history_
        meta = {
            "config": self.config.to_dict(),
            "model": self.model_.spec(),
            "training": {**history.to_dict(), **self.training_},
        }
        tensors = {"model." + k: v for k, v in self.model_.state_dict().items()}
        return write_model_file(path, "video", meta, tensors)

    @classmethod
    def load(cls, path: str | Path, device: str = "cpu") -> VideoDetector:
        """Rebuild a detector saved with :meth:`save` (or by memae 0.1.0), in eval mode."""
        resolve_device(device)
        file = read_model_file(path, "video")
        if file.meta.get("format_version") == 1:
            meta, tensors = _upgrade_v1(file.path, file.meta, file.tensors)
        else:
            meta, tensors = file.meta, file.tensors
        try:
            return cls._rebuild(file.path, meta, tensors, device)
        except ModelFileError:
            raise
        except (KeyError, TypeError, AttributeError) as error:
            raise corrupt_file(file.path, error) from error

    @classmethod
    def _rebuild(cls, path: Path, meta: dict[str, Any], tensors: dict[str, torch.Tensor],
                 device: str) -> VideoDetector:
        for key in ("config", "training"):
            if not isinstance(meta.get(key), dict):
                raise field_error(path, key, meta.get(key), "a JSON object")
        try:
            config = VideoConfig.from_dict(meta["config"])
        except (TypeError, ValueError) as error:
            raise file_error(path, f"config: {error}") from error
        training = dict(meta["training"])
        scale = training.get("map_scale")
        if scale is not None and not (isinstance(scale, (int, float))
                                      and not isinstance(scale, bool)
                                      and np.isfinite(scale) and scale > 0):
            raise field_error(path, "training.map_scale", scale, "a positive number or null")
        reference = training.get("score_reference")
        if reference is not None and not _valid_reference(reference):
            raise field_error(path, "training.score_reference", reference,
                              "null or {error, root_error, memory: [mean, std >= 0]}")
        for name, tensor in tensors.items():
            if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
                raise field_error(path, f"tensor {name}", "non-finite values", "finite numbers")
        detector = cls(config, device=device)
        try:
            model = create_model(config.model, **config.network_params)
        except (TypeError, ValueError) as error:
            raise file_error(path, f"config.model_params: {error}") from error
        state = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError as error:
            raise file_error(path, f"the weights do not fit the stored config ({error})"
                             ) from error
        detector.device_ = resolve_device(device)
        detector.model_ = model.to(detector.device_).eval()
        detector.history_ = TrainingHistory.from_dict(training)
        for name in TrainingHistory.__dataclass_fields__:
            training.pop(name, None)
        detector.training_ = training
        return detector


def _moments(values: torch.Tensor) -> list[float]:
    """``[mean, standard deviation]`` of all of ``values``."""
    flat = values.double().flatten()
    return [float(flat.mean()), float(flat.std(correction=0))]


def _valid_reference(reference: Any) -> bool:
    if not isinstance(reference, dict) or set(reference) != set(ScoreReference._fields):
        return False
    return all(isinstance(v, list) and len(v) == 2
               and all(isinstance(x, (int, float)) and not isinstance(x, bool)
                       and np.isfinite(x) for x in v) and v[1] >= 0
               for v in reference.values())


def preset_config(name: str) -> VideoConfig:
    """The :class:`VideoConfig` of the video preset ``name`` (or a preset YAML file)."""
    preset = load_preset(name)
    if preset.kind != "video":
        raise ValueError(f"preset {name!r} is a {preset.kind} preset; video models take a "
                         "video preset (memae presets lists them), or use MemAEDetector")
    return VideoConfig.from_dict(preset.detector)


# memae 0.1.0 video files: their config's names and two score options it had.
_V1_RENAMED = {"seed": "random_state"}
_V1_WITHDRAWN = {"reduction": "mean", "score_normalization": "none"}


def _upgrade_v1(path: Path, meta: dict[str, Any], tensors: dict[str, torch.Tensor]
                ) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """A memae 0.1.0 video file's document and tensors in the current schema."""
    config = meta.get("config")
    if not isinstance(config, dict):
        raise field_error(path, "config", config, "a JSON object")
    config = dict(config)
    for name, kept in _V1_WITHDRAWN.items():
        value = config.pop(name, kept)
        if value != kept:
            raise ValueError(
                f"{str(path)!r} scores frames with {name}={value!r}, which this memae no "
                f"longer has (only {name}={kept!r}); retrain it with `memae train --kind "
                "video`, or score it with memae 0.1.0")
    for old, new in _V1_RENAMED.items():
        if old in config:
            config[new] = config.pop(old)
    training = meta.get("training")
    if not isinstance(training, dict):
        raise field_error(path, "training", training, "a JSON object")
    upgraded = {"train_loss": training.get("epoch_loss", []),
                "train_mse": training.get("epoch_mse", []),
                "val_loss": training.get("epoch_val_mse", []),
                "best_epoch": len(training.get("epoch_loss", [])),
                "stopped_early": False, "steps": training.get("steps", 0),
                "n_windows": training.get("n_windows"),
                "fit_seconds": training.get("seconds"),
                "map_scale": training.get("map_scale")}
    return ({"config": config, "training": upgraded, "model": meta.get("model")},
            {"model." + k: v for k, v in tensors.items()})
