"""Pseudo-anomalies: the draws, the smooth boxes, pasting, skip-frame codes and what the
training loop feeds the model and compares its output with."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import TensorDataset

from memae import MemAEDetector
from memae.models import create_model
from memae.models.autoencoder import AutoEncoderOutput
from memae.pseudo_anomalies import (
    NONE,
    PATCH,
    PATCH_SIDE,
    SKIP,
    SKIPS,
    PseudoAnomalyWindows,
    TrainingPair,
    draw_plan,
    paste_patches,
    smooth_box_masks,
)
from memae.training import TrainSettings, TrainState, batch_indices, train
from memae.video import ClipDataset, discover_clips, make_synthetic_videos, write_frame_folders
from memae.video.config import VideoConfig

CPU = torch.device("cpu")


class Recorder(torch.nn.Module):
    """Reconstructs zeros and keeps every input it saw."""

    memory = None

    def __init__(self) -> None:
        super().__init__()
        self.bias = torch.nn.Parameter(torch.zeros(()))
        self.seen: list[torch.Tensor] = []

    def forward(self, x: torch.Tensor) -> AutoEncoderOutput:
        if self.training:
            self.seen.append(x.detach().clone())
        return AutoEncoderOutput(torch.zeros_like(x) + self.bias, None)


def test_plans_choose_the_share_and_kinds_asked_for() -> None:
    n = 200_000
    patch = draw_plan(n, 0.3, "patch", torch.Generator().manual_seed(0))
    assert set(patch.kind.unique().tolist()) == {NONE, PATCH}
    assert float((patch.kind == PATCH).double().mean()) == pytest.approx(0.3, abs=0.005)
    mixed = draw_plan(n, 0.3, "patch_or_skip_frames", torch.Generator().manual_seed(0))
    for kind in (PATCH, SKIP):
        assert float((mixed.kind == kind).double().mean()) == pytest.approx(0.15, abs=0.005)
    assert set(mixed.skip.unique().tolist()) == set(range(len(SKIPS)))
    # The same draws whatever the share and kind: the generator moves alike.
    a, b = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    draw_plan(10, 0.1, "patch", a)
    draw_plan(10, 0.9, "skip_frames", b)
    assert torch.equal(a.get_state(), b.get_state())


def test_a_box_mask_is_one_inside_and_ramps_to_zero_just_outside() -> None:
    boxes = torch.tensor([[0.5, 0.25, 1.0, 0.0]])  # full-height share 0.2, width share 0.04
    mask = smooth_box_masks(boxes, 100, 200)[0]
    rows, columns = mask[:, 50], mask[50, :]
    assert int((rows == 1).sum()) == 20 and int((columns == 1).sum()) == 8
    assert float(mask.max()) == 1.0 and float(mask.min()) == 0.0
    # Centre (50, 50); ramps of max(1, 0.1 * side / 2) = 1 pixel beyond the box.
    np.testing.assert_array_equal(np.flatnonzero(rows.numpy() == 1), np.arange(40, 60))
    assert float(rows[39]) == 0 and float(rows[60]) == 0
    wide = smooth_box_masks(torch.tensor([[0.5, 0.5, 1.0, 1.0]]), 1000, 1000)[0, 500]
    # side 200, ramp 10: 0.5 five pixels outside the box.
    assert float(wide[400 - 5]) == pytest.approx(0.5) and float(wide[599 + 5]) == pytest.approx(0.5)
    sides = (smooth_box_masks(torch.rand(500, 4, generator=torch.Generator().manual_seed(0)),
                              50, 50) == 1).sum(dim=(1, 2))
    assert int(sides.min()) >= 1 and int(sides.max()) <= (PATCH_SIDE[1] * 50) ** 2


def test_pasting_mixes_the_planned_samples_with_the_previous_one_and_keeps_the_target() -> None:
    x = torch.rand(6, 2, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    plan = draw_plan(6, 0.5, "patch", torch.Generator().manual_seed(1))
    assert 0 < int((plan.kind == PATCH).sum()) < 6
    pasted, target = paste_patches(x, None, plan)
    assert target is x
    masks = smooth_box_masks(plan.boxes, 16, 16)
    for i in range(6):
        if plan.kind[i] == PATCH:
            expected = masks[i] * x[i - 1] + (1 - masks[i]) * x[i]
            torch.testing.assert_close(pasted[i], expected)
            assert not torch.equal(pasted[i], x[i])
        else:
            assert torch.equal(pasted[i], x[i])
    with pytest.raises(ValueError, match="no height and width.*pseudo_anomaly=0"):
        paste_patches(torch.rand(6, 5), None, plan)


def test_the_loop_feeds_pasted_images_and_asks_for_the_originals() -> None:
    X = np.random.default_rng(0).random((32, 1, 12, 12), dtype=np.float32)
    model = Recorder()
    settings = TrainSettings(epochs=1, batch_size=32, learning_rate=0.0, pseudo_anomaly=0.5)
    history = train(model, X, None, settings, generator=torch.Generator().manual_seed(0),
                    device=CPU)
    generator = torch.Generator().manual_seed(0)
    order = batch_indices(32, 32, generator)[0]
    plan = draw_plan(32, 0.5, "patch", generator)
    expected = paste_patches(torch.from_numpy(X[order]), None, plan).input
    torch.testing.assert_close(model.seen[0], expected)
    assert not torch.equal(model.seen[0], torch.from_numpy(X[order]))
    # Zeros reconstructed: the loss is the mean square of the targets, the originals.
    assert history.train_loss[0] == pytest.approx(float((X.astype(np.float64) ** 2).mean()))


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> list:
    videos = make_synthetic_videos(n_train=2, n_test=0, n_frames=40, seed=0)
    return discover_clips(write_frame_folders(videos, tmp_path_factory.mktemp("clips")),
                          "training")


@pytest.mark.parametrize("num_workers", [0, 2])
def test_the_loop_feeds_planned_skip_frame_windows_and_asks_for_normal_ones(
        clips: list, num_workers: int) -> None:
    dataset = ClipDataset(clips, length=4, stride=3, size=(16, 16), signal="difference")
    n = len(dataset)
    model = Recorder()
    settings = TrainSettings(epochs=1, batch_size=n, learning_rate=0.0, pseudo_anomaly=0.6,
                             pseudo_anomaly_kind="patch_or_skip_frames",
                             num_workers=num_workers)
    history = train(model, dataset, None, settings,
                    generator=torch.Generator().manual_seed(0), device=CPU)
    generator = torch.Generator().manual_seed(0)
    order = batch_indices(n, n, generator)[0]
    plan = draw_plan(n, 0.6, "patch_or_skip_frames", generator)
    assert {NONE, PATCH, SKIP} <= set(plan.kind.tolist())
    pairs = [dataset.skip_frame_pair(int(i), SKIPS[int(s)]) if k == SKIP
             else TrainingPair(dataset[int(i)].frames, dataset[int(i)].frames)
             for i, k, s in zip(order, plan.kind, plan.skip, strict=True)]
    inputs, targets = (torch.stack(list(t)) for t in zip(*pairs, strict=True))
    torch.testing.assert_close(model.seen[0], paste_patches(inputs, targets, plan).input)
    assert history.train_loss[0] == pytest.approx(float((targets.double() ** 2).mean()))


def test_skip_frames_need_video_windows() -> None:
    settings = TrainSettings(epochs=1, batch_size=4, learning_rate=0.0, pseudo_anomaly=0.5,
                             pseudo_anomaly_kind="skip_frames")
    with pytest.raises(ValueError, match="skip-frame pseudo-anomalies need video windows"):
        train(Recorder(), np.zeros((8, 1, 4, 4), np.float32), None, settings,
              generator=torch.Generator(), device=CPU)
    with pytest.raises(ValueError, match="need video windows.*got TensorDataset"):
        PseudoAnomalyWindows(TensorDataset(torch.zeros(4, 1)))
    with pytest.raises(ValueError, match="pseudo_anomaly_kind: got 'cutout'"):
        TrainSettings(epochs=1, batch_size=4, learning_rate=0.1, pseudo_anomaly=0.1,
                      pseudo_anomaly_kind="cutout")
    with pytest.raises(ValueError, match=r"pseudo_anomaly: got 1.0; expected a float in \[0, 1\)"):
        TrainSettings(epochs=1, batch_size=4, learning_rate=0.1, pseudo_anomaly=1.0)


def test_training_with_pseudo_anomalies_resumes_bit_for_bit() -> None:
    X = np.random.default_rng(0).random((40, 1, 8, 8), dtype=np.float32)
    settings = TrainSettings(epochs=3, batch_size=8, learning_rate=1e-3, pseudo_anomaly=0.4)

    def model() -> torch.nn.Module:
        torch.manual_seed(0)
        return create_model("conv2d", in_channels=1, channels=(4, 8, 8), memory_size=20)


    states: list[TrainState] = []
    whole = model()
    train(whole, X, None, settings, generator=torch.Generator().manual_seed(1), device=CPU,
          on_epoch_end=lambda state: states.append(copy.deepcopy(state)))
    resumed = model()
    train(resumed, X, None, settings, generator=torch.Generator().manual_seed(1), device=CPU,
          resume_from=states[0])
    for a, b in zip(whole.state_dict().values(), resumed.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_detectors_take_pseudo_anomalies_as_parameters(tmp_path: Path) -> None:
    images = np.random.default_rng(0).random((48, 1, 8, 8), dtype=np.float32)
    fast = {"epochs": 2, "batch_size": 16, "random_state": 0, "device": "cpu",
            "model_params": {"channels": (4, 8, 8)}}
    plain = MemAEDetector(**fast).fit(images)
    pseudo = MemAEDetector(**fast, pseudo_anomaly=0.5).fit(images)
    assert pseudo.history_.train_loss != plain.history_.train_loss
    loaded = MemAEDetector.load(pseudo.save(tmp_path / "m.safetensors"))
    assert loaded.get_params()["pseudo_anomaly"] == 0.5
    with pytest.raises(ValueError, match="pseudo_anomaly must be a float in"):
        MemAEDetector(pseudo_anomaly=-0.1).fit(images)
    with pytest.raises(ValueError, match="tabular data"):
        MemAEDetector(epochs=2, device="cpu", pseudo_anomaly=0.5).fit(images.reshape(48, -1))
    with pytest.raises(ValueError, match="pseudo_anomaly_kind: got 'x'"):
        VideoConfig(pseudo_anomaly_kind="x")
