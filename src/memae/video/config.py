"""How a video MemAE is built, trained and scored: the parameters of :class:`VideoDetector`.

The model, memory and training fields have the names, meanings and validation
rules of :class:`memae.MemAEDetector`'s parameters; the video fields say what
the net reads (frame size, clip length, input signal) and how frame scores are
read from clip reconstructions. Named settings ship as presets
(``memae/presets/ped2-*.yaml``, listed by ``memae presets``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from memae.data.images import check_input_size
from memae.validation import PARAMETER_RULES
from memae.video.signal import INPUT_SIGNALS, signal_channels

# How frames are scored (see memae.video.score).
FRAME_SCORES = ("reconstruction", "reconstruction+memory")
# Fields shared with MemAEDetector, checked by the same rules (memae.validation).
SHARED_FIELDS = ("model", "model_params", "memory", "memory_size", "shrink_threshold",
                 "entropy_weight", "epochs", "batch_size", "learning_rate", "weight_decay",
                 "lr_schedule", "max_steps", "precision", "pseudo_anomaly",
                 "pseudo_anomaly_kind", "validation_fraction", "patience")


@dataclass(frozen=True)
class VideoConfig:
    """The settings of a video model, stored in its model file.

    Parameters
    ----------
    model, model_params, memory, memory_size, shrink_threshold, entropy_weight:
        As in :class:`memae.MemAEDetector`: a registered net (``"conv3d"`` is the
        authors' video net) with preset overrides; ``memory=False`` gives the plain
        autoencoder, ``shrink_threshold=0`` the memory without hard shrinkage.
    epochs, batch_size, learning_rate, weight_decay, lr_schedule, max_steps, precision:
        The training loop's settings (:class:`memae.training.TrainSettings`);
        ``batch_size`` counts windows.
    pseudo_anomaly, pseudo_anomaly_kind:
        Share of the training windows replaced by pseudo-anomalies (a pasted patch
        or a sped-up window) whose target is the normal window, and their kind
        (:mod:`memae.pseudo_anomalies`); ``0`` (the paper) trains on the windows
        as they are.
    validation_fraction:
        Share of the training clips (whole clips, at least one kept for training)
        held out: their non-overlapping windows' reconstruction MSE is recorded
        every epoch and, with ``patience``, decides early stopping and the kept
        epoch. ``0`` (the paper) trains on every clip for ``epochs``.
    patience:
        Epochs without a better held-out MSE before training stops (needs
        ``validation_fraction > 0``); ``None`` trains every epoch.
    random_state:
        Seeds weight initialisation, the held-out clips and the order of windows.
    size:
        Frame ``(height, width)`` after resizing.
    clip_length, frame_step:
        Frames per window (T) and frames between a window's samples.
    input_signal:
        What the net reads of each frame (:mod:`memae.video.signal`): the frame
        (the paper), its difference from the previous frame, or both as channels.
    train_stride:
        Frames between the starts of consecutive training windows.
    cache_frames, num_workers:
        Decoded frames kept in memory per process, and DataLoader workers.
    score_stride, fast_stride:
        Window strides of the sliding scoring mode (1 in the paper's protocol) and
        of the fast mode (``None``: ``clip_length``, non-overlapping windows).
    smoothing:
        Side, in pixels at ``size``, of the box filter of the anomaly maps.
    temporal_smoothing:
        Odd window, in frames, of a centred moving average of the frame scores
        within a video (:mod:`memae.video.temporal`); 1 leaves them as they are.
    frame_score:
        ``"reconstruction"`` (the paper): the reconstruction error.
        ``"reconstruction+memory"`` (a model with a memory): that error plus the mean
        squared distance of the window's latent codes to their memory read-outs, each
        standardised on normal windows (:mod:`memae.video.score`); a signal a plain
        autoencoder does not have.
    """

    model: str = "conv3d"
    model_params: dict[str, Any] = field(default_factory=dict)
    memory: bool = True
    memory_size: int | None = None
    shrink_threshold: float | None = None
    entropy_weight: float = 0.0002
    epochs: int = 60
    batch_size: int = 8
    learning_rate: float = 1e-4
    weight_decay: float = 0.0
    lr_schedule: str = "constant"
    max_steps: int | None = None
    precision: str = "fp32"
    pseudo_anomaly: float = 0.0
    pseudo_anomaly_kind: str = "patch"
    validation_fraction: float = 0.0
    patience: int | None = None
    random_state: int = 0
    size: tuple[int, int] = (256, 256)
    clip_length: int = 16
    frame_step: int = 1
    input_signal: str = "frames"
    train_stride: int = 1
    cache_frames: int = 32
    num_workers: int = 0
    score_stride: int = 1
    fast_stride: int | None = None
    smoothing: int = 21
    temporal_smoothing: int = 1
    frame_score: str = "reconstruction"

    def __post_init__(self) -> None:
        for name in SHARED_FIELDS:
            rule, expected = PARAMETER_RULES[name]
            if not rule(getattr(self, name)):
                raise ValueError(f"{name}: got {getattr(self, name)!r}; expected {expected}")
        for name in ("random_state", "cache_frames", "num_workers"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name}: got {value!r}; expected an integer >= 0")
        for name in ("clip_length", "frame_step", "train_stride", "score_stride", "smoothing"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: got {value!r}; expected a positive integer")
        if self.fast_stride is not None and (not isinstance(self.fast_stride, int)
                                             or self.fast_stride < 1):
            raise ValueError(f"fast_stride: got {self.fast_stride!r}; expected >= 1 or None")
        if len(self.size) != 2 or not all(isinstance(s, int) and s > 0 for s in self.size):
            raise ValueError(f"size: got {self.size!r}; expected (height, width), positive ints")
        check_input_size(self.size, "size")
        if self.input_signal not in INPUT_SIGNALS:
            raise ValueError(
                f"input_signal: got {self.input_signal!r}; expected one of {INPUT_SIGNALS}")
        channels = self.model_params.get("in_channels", signal_channels(self.input_signal))
        if channels != signal_channels(self.input_signal):
            raise ValueError(
                f"model_params: in_channels={channels!r} but input_signal="
                f"{self.input_signal!r} gives {signal_channels(self.input_signal)} channel(s); "
                "drop in_channels, it follows the input signal")
        if not isinstance(self.temporal_smoothing, int) or self.temporal_smoothing < 1 \
                or self.temporal_smoothing % 2 == 0:
            raise ValueError(f"temporal_smoothing: got {self.temporal_smoothing!r}; expected "
                             "an odd positive number of frames (1: no smoothing)")
        if self.frame_score not in FRAME_SCORES:
            raise ValueError(f"frame_score: got {self.frame_score!r}; expected one of "
                             f"{FRAME_SCORES}")
        if self.frame_score != "reconstruction" and not self.memory:
            raise ValueError(f"frame_score: {self.frame_score!r} reads the memory, but "
                             "memory=False; use frame_score='reconstruction' for the plain "
                             "autoencoder")
        if self.smoothing % 2 == 0:
            raise ValueError(
                f"smoothing: got {self.smoothing}; expected an odd window so maps stay centred")
        if self.patience is not None and self.validation_fraction == 0:
            raise ValueError(f"patience: got {self.patience!r} with validation_fraction=0; "
                             "early stopping watches held-out clips: set validation_fraction "
                             "(e.g. 0.1) or patience=None")
        if self.memory and self.shrink_threshold is None and self.memory_size == 1:
            raise ValueError("memory_size=1 makes the default shrink_threshold 1/N = 1.0, "
                             "which would zero the memory's only weight; use memory_size >= 2 "
                             "or set shrink_threshold (0 turns hard shrinkage off).")

    @property
    def span(self) -> int:
        """Frames covered by one clip: ``(clip_length - 1) * frame_step + 1``."""
        return (self.clip_length - 1) * self.frame_step + 1

    @property
    def network_params(self) -> dict[str, Any]:
        """What builds the net: ``model_params`` with the input channels and memory fields."""
        params = {**self.model_params, "in_channels": signal_channels(self.input_signal),
                  "memory": self.memory}
        if self.memory_size is not None:
            params["memory_size"] = self.memory_size
        if self.shrink_threshold is not None:
            params["shrink_threshold"] = self.shrink_threshold
        return params

    @property
    def resolved_fast_stride(self) -> int:
        """The stride of fast scoring: ``fast_stride``, or ``clip_length`` when unset."""
        return self.clip_length if self.fast_stride is None else self.fast_stride

    def replace(self, **changes: Any) -> VideoConfig:
        """A copy with ``changes``; an unknown field is an error that lists the known ones."""
        unknown = sorted(set(changes) - set(field_names()))
        if unknown:
            raise ValueError(f"unknown video settings {unknown}; known: {field_names()}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (tuples become lists)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> VideoConfig:
        """Rebuild a config from :meth:`to_dict` output or a preset; unknown keys are an error."""
        unknown = sorted(set(values) - set(field_names()))
        if unknown:
            raise ValueError(f"unknown video settings {unknown}; known: {field_names()}")
        values = dict(values)
        if "size" in values:
            values["size"] = tuple(values["size"])
        params = dict(values.get("model_params") or {})
        values["model_params"] = {k: _tuples(v) for k, v in params.items()}
        return cls(**values)


def field_names() -> list[str]:
    """The fields of :class:`VideoConfig`, in declaration order."""
    return [f.name for f in dataclasses.fields(VideoConfig)]


def _tuples(value: Any) -> Any:
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value
