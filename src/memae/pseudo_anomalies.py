"""Pseudo-anomalies: training inputs made abnormal on purpose, with the normal original as target.

"Learning Not to Reconstruct Anomalies" (Astrid et al., BMVC 2021) replaces a share
``p`` of the training samples by pseudo-anomalies and asks the autoencoder to
reconstruct the *normal* sample they were made from, so that it learns to undo what
is not normal instead of copying whatever it is shown. Two kinds:

``"patch"`` (images and video windows)
    A box cut from another sample of the same batch is pasted with a smooth border
    (the mask is 1 inside the box and falls linearly to 0 over a tenth of the box's
    half side outside it): an object that does not belong. Each side is a uniform
    share in :data:`PATCH_SIDE` of the frame's side, the centre uniform over the
    frame; a video window gets the same box in every frame. The target is the
    sample before pasting.
``"skip_frames"`` (video windows only)
    The window reads every ``s``-th frame (``s`` uniform in :data:`SKIPS`): the
    scene moves ``s`` times too fast. The target is the window of consecutive
    frames that starts on the same frame; frame differences are those of the
    sped-up video (each sampled frame minus the one ``s`` frames before it).
``"patch_or_skip_frames"``
    Either, with equal odds.

Every draw comes from the training loop's generator in the main process, once per
global batch, so a resumed run and the ranks of a data-parallel run see the same
pseudo-anomalies (a pasted box is cut from another sample of the same rank's share).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol, cast

import torch
from torch.utils.data import Dataset

PSEUDO_ANOMALY_KINDS: tuple[str, ...] = ("patch", "skip_frames", "patch_or_skip_frames")
# A box side as a share of the frame side: the authors' max(10 px, U(0, 0.2) * 256 px).
PATCH_SIDE = (0.04, 0.2)
# Width of the border ramp, as a share of the box's half side.
BORDER_SHARE = 0.1
# Frame skips of the "skip_frames" kind: the authors' set for Ped2.
SKIPS: tuple[int, ...] = (2, 3, 4, 5)

NONE, PATCH, SKIP = 0, 1, 2


class TrainingPair(NamedTuple):
    """An input and the reconstruction the loss asks for (the input itself if normal)."""

    input: torch.Tensor
    target: torch.Tensor


@dataclass(frozen=True)
class PseudoAnomalyPlan:
    """What becomes of each sample of a batch.

    Attributes
    ----------
    kind:
        ``(n,)`` int64: :data:`NONE`, :data:`PATCH` or :data:`SKIP`.
    skip:
        ``(n,)`` int64 index into :data:`SKIPS` (read where ``kind == SKIP``).
    boxes:
        ``(n, 4)`` uniform draws in [0, 1): box centre row, centre column, height
        and width (read where ``kind == PATCH``).
    """

    kind: torch.Tensor
    skip: torch.Tensor
    boxes: torch.Tensor

    def __getitem__(self, rows: slice) -> PseudoAnomalyPlan:
        return PseudoAnomalyPlan(self.kind[rows], self.skip[rows], self.boxes[rows])


def check_pseudo_anomaly(probability: float, kind: str) -> None:
    """Raise a ``ValueError`` naming a bad ``pseudo_anomaly`` or ``pseudo_anomaly_kind``."""
    if isinstance(probability, bool) or not isinstance(probability, (int, float)) \
            or not 0 <= probability < 1:
        raise ValueError(f"pseudo_anomaly: got {probability!r}; expected a float in [0, 1), "
                         "the share of training samples made pseudo-anomalous (0: off)")
    if kind not in PSEUDO_ANOMALY_KINDS:
        raise ValueError(f"pseudo_anomaly_kind: got {kind!r}; expected one of "
                         f"{PSEUDO_ANOMALY_KINDS}")


def draw_plan(n: int, probability: float, kind: str,
              generator: torch.Generator) -> PseudoAnomalyPlan:
    """The pseudo-anomalies of a batch of ``n`` samples (always the same number of draws)."""
    u = torch.rand(n, generator=generator, dtype=torch.float64)
    skip = torch.randint(len(SKIPS), (n,), generator=generator)
    boxes = torch.rand(n, 4, generator=generator)
    chosen = u < probability
    if kind == "patch":
        plan = torch.where(chosen, PATCH, NONE)
    elif kind == "skip_frames":
        plan = torch.where(chosen, SKIP, NONE)
    else:
        plan = torch.where(u < probability / 2, PATCH, torch.where(chosen, SKIP, NONE))
    return PseudoAnomalyPlan(plan.long(), skip, boxes)


def _profiles(centre: torch.Tensor, side_draw: torch.Tensor, size: int) -> torch.Tensor:
    """``(n, size)`` box profiles along one axis: 1 inside, a linear ramp outside."""
    low, high = PATCH_SIDE
    side = torch.clamp(torch.round((low + side_draw * (high - low)) * size), min=1)
    start = torch.floor(centre * size) - torch.div(side, 2, rounding_mode="floor")
    end = start + side - 1  # last position inside the box
    ramp = torch.clamp(BORDER_SHARE * side / 2, min=1.0)
    position = torch.arange(size, dtype=torch.float32)
    rising = (position - (start[:, None] - ramp[:, None])) / ramp[:, None]
    falling = ((end[:, None] + ramp[:, None]) - position) / ramp[:, None]
    return torch.clamp(torch.minimum(rising, falling), 0.0, 1.0)


def smooth_box_masks(boxes: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """``(n, height, width)`` float32 masks of the boxes a plan drew (see the module doc)."""
    rows = _profiles(boxes[:, 0], boxes[:, 2], height)
    columns = _profiles(boxes[:, 1], boxes[:, 3], width)
    return rows[:, :, None] * columns[:, None, :]


def no_patches_error(shape: tuple[int, ...]) -> ValueError:
    """The error for patch pseudo-anomalies on samples of ``shape``, which have no frame."""
    return ValueError(
        f"pseudo_anomaly: patch pseudo-anomalies paste boxes into images or video windows, "
        f"but the samples have shape {shape} (no height and width); use pseudo_anomaly=0 "
        "for tabular data")


def paste_patches(x: torch.Tensor, target: torch.Tensor | None,
                  plan: PseudoAnomalyPlan) -> TrainingPair:
    """The batch with the planned patches pasted, and its target.

    ``x`` is ``(n, C, H, W)`` or ``(n, C, T, H, W)``; sample ``i``'s patch is cut
    from sample ``i - 1`` (the batch rolled by one). ``target`` defaults to ``x``.
    """
    target = x if target is None else target
    patch = plan.kind == PATCH
    if not bool(patch.any()):
        return TrainingPair(x, target)
    if x.ndim < 4:
        raise no_patches_error(tuple(x.shape[1:]))
    masks = smooth_box_masks(plan.boxes, x.shape[-2], x.shape[-1]).to(x.device, x.dtype)
    masks = masks.reshape(len(x), *([1] * (x.ndim - 3)), *x.shape[-2:])
    pasted = torch.lerp(x, x.roll(1, dims=0), masks)
    keep = patch.to(x.device).reshape(len(x), *([1] * (x.ndim - 1)))
    return TrainingPair(torch.where(keep, pasted, x), target)


class SkipFrameSource(Protocol):
    """A dataset of windows that can also give a skip-frame window and its normal target."""

    def __len__(self) -> int: ...

    def __getitem__(self, item: int) -> Any: ...

    def skip_frame_pair(self, item: int, skip: int) -> TrainingPair:
        """Window ``item`` sped up ``skip`` times, and the normal window as its target."""
        ...


class PseudoAnomalyWindows(Dataset[TrainingPair]):
    """A window dataset whose items ``item + len(base) * (1 + j)`` read skip ``SKIPS[j]``.

    Items below ``len(base)`` are the base dataset's windows, as ``(input, input)``.
    The training loop's sampler writes the planned skips into the indices it yields,
    so DataLoader workers read exactly the planned windows.
    """

    def __init__(self, base: Dataset[Any]) -> None:
        if not callable(getattr(base, "skip_frame_pair", None)):
            raise ValueError(
                f"pseudo_anomaly_kind: skip-frame pseudo-anomalies need video windows "
                f"(memae.video.ClipDataset); got {type(base).__name__}. Use 'patch' for "
                "images, or pseudo_anomaly=0")
        self.base = cast(SkipFrameSource, base)
        self.n = len(self.base)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, code: int) -> TrainingPair:
        item, which = code % self.n, code // self.n
        if which == 0:
            sample = self.base[item]
            window = sample if isinstance(sample, torch.Tensor) else sample[0]
            return TrainingPair(window, window)
        return self.base.skip_frame_pair(item, SKIPS[which - 1])
