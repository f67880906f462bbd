"""Video experiment configurations: the paper's setting and a CPU-sized one.

A :class:`VideoConfig` holds everything needed to rebuild a video model and to score
frames the way it was evaluated (input size, clip length, normalisation, score reduction),
so it is stored in every video model file (:mod:`memae.video.checkpoint`).

``paper`` follows Gong et al. (ICCV 2019, Sec. 4.2): grayscale frames resized to 256 x 256,
16-frame cuboids, the ``conv3d`` net with memory N = 2000 and lambda = 0.0025, entropy
weight alpha = 0.0002, Adam with learning rate 1e-4, and the reconstruction error of the
whole frame as its score. It is meant for a GPU.

``cpu`` keeps the paper's four-stage 3-D conv net, memory (N = 2000,
lambda = 0.0025), loss and per-frame error, but shrinks what dominates the cost on a CPU
and departs from the paper in what the net reads and how frame scores are read (see
``docs/video.md``):

- the net reads frame differences ``f_t - f_(t-1)`` (``input_signal="difference"``,
  :mod:`memae.video.signal`) instead of frames: static background cancels out and the
  error concentrates on what moves;
- frames resized to 80 x 120 (a third of Ped2's 240 x 360, aspect ratio kept) instead of
  256 x 256;
- encoder widths 16-32-64-64 instead of 96-128-256-256, and a last stage that downsamples
  time only (strides (1,2,2), 2, 2, (2,1,1)): a 2 x 10 x 15 latent grid with the paper's
  compression (8x fewer latent values than input pixels);
- a fixed budget of 10 epochs over every training window (stride 1, 2,890 Adam steps),
  constant learning rate 5e-4, float32 (bf16 is emulated, several times slower, on CPUs
  without AMX or AVX-512 BF16), about 38 minutes on one core of a 2-core AVX2 machine;
- frame scores averaged over 7 frames (``temporal_smoothing=7``), the median rhythm of the
  training clips' motion energy (a walker's step), before per-video min-max normalisation;
- decoded frames cached in memory (the whole Ped2 training set).

The per-frame error is the paper's. ``score_normalization``, ``reduction`` and
``temporal_smoothing`` select other frame scores. Measured results on Ped2, the
alternatives tried and how each choice was made are in ``docs/video.md``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

from memae.data.images import check_input_size
from memae.video.signal import INPUT_SIGNALS, InputSignal, signal_channels

Reduction = Literal["mean", "patch_max"]
REDUCTIONS: tuple[str, ...] = ("mean", "patch_max")
ScoreNormalization = Literal["none", "ratio", "zscore"]
SCORE_NORMALIZATIONS: tuple[str, ...] = ("none", "ratio", "zscore")
LRSchedule = Literal["constant", "cosine"]
LR_SCHEDULES: tuple[str, ...] = ("constant", "cosine")
Precision = Literal["fp32", "bf16"]
PRECISIONS: tuple[str, ...] = ("fp32", "bf16")
VARIANTS: tuple[str, ...] = ("memae", "ae", "nonspar")


@dataclass(frozen=True)
class VideoConfig:
    """How a video MemAE is built, trained and scored.

    Parameters
    ----------
    model : str
        Registered model preset (``"conv3d"`` is the authors' video net).
    model_params : dict
        Overrides of the preset, e.g. ``{"channels": (16, 32, 64, 64)}``; ``memory=False``
        gives the plain autoencoder, ``shrink_threshold=0`` MemAE-nonSpar.
    size : (int, int)
        Frame ``(height, width)`` after resizing.
    clip_length : int
        Frames per clip (T).
    frame_step : int
        Frames between consecutive samples of a clip (1: consecutive frames).
    input_signal : {"frames", "difference", "frames_and_difference"}
        What the model reads of each frame (:mod:`memae.video.signal`): the frame (the
        paper), its difference from the previous frame (zeros for a video's first), or
        both as two input channels (the net's ``in_channels`` follows).
    train_stride : int
        Frames between the starts of consecutive training windows.
    epochs, batch_size, learning_rate, weight_decay : training settings (Adam).
    lr_schedule : {"constant", "cosine"}
        ``"constant"`` keeps ``learning_rate`` (the paper); ``"cosine"`` anneals it to zero
        over all training steps (cosine curve, updated every step).
    entropy_weight : float
        alpha of the addressing-entropy loss (the paper: 0.0002).
    precision : {"fp32", "bf16"}
        ``"bf16"`` runs the training forward passes under bfloat16 autocast (on CPUs with
        AMX or AVX-512 BF16, and on GPUs). Weights, optimiser state, the memory's logits
        and softmax (:meth:`memae.memory.Memory.address`) and all scoring stay in float32,
        so scores are computed the same way whatever the training precision.
    score_stride : int
        Window stride of the sliding scoring mode (1 in the paper's protocol).
    fast_stride : int or None
        Window stride of the fast mode; ``None`` means ``clip_length`` (non-overlapping).
    smoothing : int
        Side, in pixels at ``size``, of the box filter applied to per-pixel error maps.
    reduction : {"mean", "patch_max"}
        Frame score from its error map: the mean squared error of the frame (the paper),
        or the maximum of the box-smoothed map (the error of the worst local patch).
    score_normalization : {"none", "ratio", "zscore"}
        Compare each pixel's smoothed error with its own level on normal frames before the
        reduction (:mod:`memae.video.reference`): ``"none"`` (the paper), ``"ratio"``
        (divide by the per-pixel mean training error) or ``"zscore"`` (subtract it and
        divide by the per-pixel standard deviation). The statistics are fitted on the
        training clips after training and stored with the model. With a normalisation,
        ``"mean"`` averages the normalised smoothed map.
    temporal_smoothing : int
        Odd window, in frames, of a centred moving average of the frame scores within a
        video (:mod:`memae.video.temporal`); 1 (the paper) leaves them as they are.
    cache_frames : int
        Decoded frames kept in memory by the training dataset.
    num_workers : int
        DataLoader worker processes for training (0 decodes in the training process).
    seed : int
        Seeds weight initialisation and the order of training windows.
    """

    model: str = "conv3d"
    model_params: dict[str, Any] = field(default_factory=dict)
    size: tuple[int, int] = (256, 256)
    clip_length: int = 16
    frame_step: int = 1
    input_signal: InputSignal = "frames"
    train_stride: int = 1
    epochs: int = 60
    batch_size: int = 8
    learning_rate: float = 1e-4
    weight_decay: float = 0.0
    lr_schedule: LRSchedule = "constant"
    entropy_weight: float = 0.0002
    precision: Precision = "fp32"
    score_stride: int = 1
    fast_stride: int | None = None
    smoothing: int = 21
    reduction: Reduction = "mean"
    score_normalization: ScoreNormalization = "none"
    temporal_smoothing: int = 1
    cache_frames: int = 32
    num_workers: int = 0
    seed: int = 0

    def __post_init__(self) -> None:
        positive = ("clip_length", "frame_step", "train_stride", "epochs", "batch_size",
                    "score_stride", "smoothing")
        for name in positive:
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: got {value!r}; expected a positive integer")
        if self.fast_stride is not None and self.fast_stride < 1:
            raise ValueError(f"fast_stride: got {self.fast_stride!r}; expected >= 1 or None")
        if len(self.size) != 2 or not all(isinstance(s, int) and s > 0 for s in self.size):
            raise ValueError(f"size: got {self.size!r}; expected (height, width), positive ints")
        check_input_size(self.size, "size")
        if self.input_signal not in INPUT_SIGNALS:
            raise ValueError(
                f"input_signal: got {self.input_signal!r}; expected one of {INPUT_SIGNALS}"
            )
        channels = self.model_params.get("in_channels", signal_channels(self.input_signal))
        if channels != signal_channels(self.input_signal):
            raise ValueError(
                f"model_params: in_channels={channels!r} but input_signal="
                f"{self.input_signal!r} gives {signal_channels(self.input_signal)} channel(s); "
                "drop in_channels, it follows the input signal"
            )
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(
                f"lr_schedule: got {self.lr_schedule!r}; expected one of {LR_SCHEDULES}"
            )
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision: got {self.precision!r}; expected one of {PRECISIONS}")
        if self.reduction not in REDUCTIONS:
            raise ValueError(f"reduction: got {self.reduction!r}; expected one of {REDUCTIONS}")
        if not isinstance(self.temporal_smoothing, int) or self.temporal_smoothing < 1 \
                or self.temporal_smoothing % 2 == 0:
            raise ValueError(f"temporal_smoothing: got {self.temporal_smoothing!r}; expected "
                             "an odd positive number of frames (1: no smoothing)")
        if self.score_normalization not in SCORE_NORMALIZATIONS:
            raise ValueError(f"score_normalization: got {self.score_normalization!r}; "
                             f"expected one of {SCORE_NORMALIZATIONS}")
        if self.smoothing % 2 == 0:
            raise ValueError(
                f"smoothing: got {self.smoothing}; expected an odd window so maps stay centred"
            )
        if self.learning_rate <= 0:
            raise ValueError(f"learning_rate: got {self.learning_rate!r}; expected > 0")

    @property
    def span(self) -> int:
        """Frames covered by one clip: ``(clip_length - 1) * frame_step + 1``."""
        return (self.clip_length - 1) * self.frame_step + 1

    @property
    def network_params(self) -> dict[str, Any]:
        """``model_params`` with ``in_channels`` set by ``input_signal``: what builds the net."""
        return {**self.model_params, "in_channels": signal_channels(self.input_signal)}

    @property
    def resolved_fast_stride(self) -> int:
        return self.clip_length if self.fast_stride is None else self.fast_stride

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (tuples become lists)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> VideoConfig:
        """Rebuild a config from :meth:`to_dict` output; unknown keys are an error."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"values: unknown video config keys {unknown}; known: {sorted(known)}")
        values = dict(values)
        if "size" in values:
            values["size"] = tuple(values["size"])
        params = dict(values.get("model_params", {}))
        values["model_params"] = {k: _tuples(v) for k, v in params.items()}
        return cls(**values)


def _tuples(value: Any) -> Any:
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


PAPER = VideoConfig(
    model="conv3d",
    size=(256, 256),
    clip_length=16,
    epochs=60,
    batch_size=8,
    learning_rate=1e-4,
    entropy_weight=0.0002,
    smoothing=21,
    reduction="mean",
    num_workers=4,
)

CPU = VideoConfig(
    model="conv3d",
    model_params={"channels": (16, 32, 64, 64), "strides": ((1, 2, 2), 2, 2, (2, 1, 1))},
    size=(80, 120),
    clip_length=16,
    input_signal="difference",
    train_stride=1,
    epochs=10,
    batch_size=8,
    learning_rate=5e-4,
    entropy_weight=0.0002,
    precision="fp32",
    smoothing=9,
    reduction="mean",
    temporal_smoothing=7,
    cache_frames=3000,
)

VIDEO_CONFIGS: dict[str, VideoConfig] = {"paper": PAPER, "cpu": CPU}


def video_config(name: str, variant: str = "memae", **overrides: Any) -> VideoConfig:
    """A named configuration, optionally as an ablation variant, with field overrides.

    Parameters
    ----------
    name : {"paper", "cpu"}
        Base configuration.
    variant : {"memae", "ae", "nonspar"}, default "memae"
        ``"ae"``: the same encoder and decoder without memory; ``"nonspar"``: memory
        without hard shrinkage (lambda = 0) and without the entropy loss, as the paper's
        MemAE-nonSpar.
    **overrides
        Any :class:`VideoConfig` field, e.g. ``epochs=2``.
    """
    if name not in VIDEO_CONFIGS:
        raise ValueError(f"name: unknown video config {name!r}; known: {sorted(VIDEO_CONFIGS)}")
    if variant not in VARIANTS:
        raise ValueError(f"variant: got {variant!r}; expected one of {VARIANTS}")
    config = VIDEO_CONFIGS[name]
    params = dict(config.model_params)
    if variant == "ae":
        params["memory"] = False
    elif variant == "nonspar":
        params["shrink_threshold"] = 0.0
    changes: dict[str, Any] = {"model_params": params}
    if variant == "nonspar":
        changes["entropy_weight"] = 0.0
    unknown = sorted(set(overrides) - {f.name for f in dataclasses.fields(VideoConfig)})
    if unknown:
        raise ValueError(f"overrides: unknown video config fields {unknown}")
    return dataclasses.replace(config, **{**changes, **overrides})
