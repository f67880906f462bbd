"""Training video models: synthetic end-to-end AUC floor, the paper net, the ablations."""

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from memae.memory import Memory
from memae.models.autoencoder import AutoEncoderOutput
from memae.video import discover_clips, make_synthetic_videos, write_frame_folders
from memae.video.clips import ClipDataset
from memae.video.config import VideoConfig, video_config
from memae.video.evaluate import evaluate_mode
from memae.video.train import build_video_model, held_out_mse, train_video_model

# A tiny net and 39 steps: the full learning rate throughout (the cpu preset's
# cosine decay is meant for thousands of steps).
TINY = {"size": (32, 32), "clip_length": 8, "epochs": 3, "smoothing": 5,
        "learning_rate": 1e-3, "lr_schedule": "constant",
        "model_params": {"channels": (8, 16, 16, 16)},
        # the paper's frame score: 40-frame clips are too short for a 17-frame average
        "reduction": "mean", "score_normalization": "none", "temporal_smoothing": 1}


@pytest.fixture(scope="module")
def shapes_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    videos = make_synthetic_videos(n_train=3, n_test=3, n_frames=40, seed=0, anomaly="shape")
    return write_frame_folders(videos, tmp_path_factory.mktemp("shapes"))


def test_synthetic_video_end_to_end_reaches_the_auc_floor(shapes_root: Path) -> None:
    train = discover_clips(shapes_root, "training")
    test = discover_clips(shapes_root, "testing", labels=shapes_root / "testing" /
                          "test_frame_mask")
    trained = train_video_model(video_config("cpu", **TINY), train)
    assert trained.training["steps"] == 3 * int(np.ceil(3 * (40 - 8 + 1) / 8))
    assert trained.training["epoch_mse"][-1] < trained.training["epoch_mse"][0]
    assert trained.training["map_scale"] > 0
    sliding = evaluate_mode(trained, test, "sliding")
    fast = evaluate_mode(trained, test, "fast")
    # Measured 1.0 for both modes with seed 0; an untrained net scores about 0.5.
    assert sliding.frame_auc >= 0.9 and fast.frame_auc >= 0.9
    assert (sliding.stride, fast.stride) == (1, 8)
    assert [len(s) for s in sliding.scores] == [40, 40, 40]


def test_training_is_reproducible_from_the_seed_with_or_without_workers(
    shapes_root: Path,
) -> None:
    train = discover_clips(shapes_root, "training")
    config = video_config("cpu", **TINY)
    first = train_video_model(config, train, max_steps=2)
    second = train_video_model(video_config("cpu", **TINY, num_workers=2), train, max_steps=2)
    for a, b in zip(first.model.state_dict().values(), second.model.state_dict().values(),
                    strict=True):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("native", [False, True])
def test_bf16_on_a_cpu_that_emulates_it_warns_with_what_to_do(
    shapes_root: Path, monkeypatch: pytest.MonkeyPatch, native: bool,
) -> None:
    train = discover_clips(shapes_root, "training")[:1]
    monkeypatch.setattr("memae.video.train.cpu_has_native_bf16", lambda: native)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        train_video_model(video_config("cpu", **TINY, precision="bf16"), train, max_steps=1)
        train_video_model(video_config("cpu", **TINY, precision="fp32"), train, max_steps=1)
    messages = [str(w.message) for w in caught if w.category is RuntimeWarning]
    emulated = [m for m in messages if "bf16 autocast is emulated" in m]
    assert len(emulated) == (0 if native else 1)
    assert native or "precision='fp32'" in emulated[0]


def test_paper_config_is_the_authors_setting_and_trains_on_cpu(shapes_root: Path) -> None:
    paper = video_config("paper")
    assert (paper.size, paper.clip_length, paper.learning_rate, paper.entropy_weight) == (
        (256, 256), 16, 1e-4, 0.0002)
    # The paper's net at a tiny input: 3-D convs 1-96-128-256-256, memory 2000 x 256.
    config = video_config("paper", size=(32, 32), batch_size=2, num_workers=0)
    untrained = build_video_model(config)
    memory = untrained.memory
    assert isinstance(memory, Memory)
    assert (memory.num_items, memory.dim, memory.shrink_threshold) == (2000, 256, 0.0025)
    widths = [m.out_channels for m in untrained.encoder.modules()
              if isinstance(m, torch.nn.Conv3d)]
    assert widths == [96, 128, 256, 256]
    trained = train_video_model(config, discover_clips(shapes_root, "training"), max_steps=2)
    assert trained.training["steps"] == 2 and np.isfinite(trained.training["epoch_loss"][0])
    changed = [not torch.equal(a, b) for a, b in
               zip(untrained.state_dict().values(), trained.model.state_dict().values(),
                   strict=True)]
    assert any(changed)


def test_ablation_variants() -> None:
    ae = video_config("cpu", "ae")
    nonspar = video_config("cpu", "nonspar")
    assert build_video_model(ae).memory is None
    memory = build_video_model(nonspar).memory
    assert memory is not None and memory.shrink_threshold == 0.0
    assert nonspar.entropy_weight == 0.0 and ae.size == video_config("cpu").size
    with pytest.raises(ValueError, match="variant: got 'sparse'"):
        video_config("cpu", "sparse")
    with pytest.raises(ValueError, match="name: unknown video config 'gpu'"):
        video_config("gpu")


def test_config_round_trips_and_refuses_bad_values() -> None:
    config = video_config("cpu")
    assert VideoConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="unknown video config keys \\['colour'\\]"):
        VideoConfig.from_dict({**config.to_dict(), "colour": True})
    with pytest.raises(ValueError, match="smoothing: got 4; expected an odd window"):
        video_config("cpu", smoothing=4)
    with pytest.raises(ValueError, match="reduction: got 'median'"):
        video_config("cpu", reduction="median")
    with pytest.raises(ValueError, match="precision: got 'fp16'"):
        video_config("cpu", precision="fp16")


@pytest.mark.filterwarnings("ignore:precision='bf16'")  # emulated on some CPUs: slow, not wrong
def test_bf16_training_matches_float32_training_closely(shapes_root: Path) -> None:
    # bf16 autocast changes the arithmetic of the forward pass, not what is learned: a few
    # steps from the same initialisation end near the float32 weights and loss.
    train = discover_clips(shapes_root, "training")
    runs = {precision: train_video_model(video_config("cpu", **TINY, precision=precision),
                                         train, max_steps=6)
            for precision in ("fp32", "bf16")}
    fp32, bf16 = (runs[p].training["epoch_mse"][0] for p in ("fp32", "bf16"))
    assert bf16 == pytest.approx(fp32, rel=0.05)
    for a, b in zip(runs["fp32"].model.state_dict().values(),
                    runs["bf16"].model.state_dict().values(), strict=True):
        assert b.dtype == a.dtype  # weights stay float32
    assert runs["bf16"].config.precision == "bf16"


class ZeroModel(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> AutoEncoderOutput:
        return AutoEncoderOutput(torch.zeros_like(x), None)


def test_held_out_mse_is_the_mean_squared_error_of_every_window(shapes_root: Path) -> None:
    clips = discover_clips(shapes_root, "training")[:1]
    dataset = ClipDataset(clips, length=8, stride=8, size=(32, 32))
    frames = torch.stack([dataset[i].frames for i in range(len(dataset))])
    # A model that reconstructs zeros errs by x**2 at every pixel.
    expected = float((frames**2).mean())
    assert held_out_mse(ZeroModel(), dataset, batch_size=3) == pytest.approx(expected)


def test_held_out_clips_are_scored_after_every_epoch_without_changing_training(
    shapes_root: Path,
) -> None:
    train = discover_clips(shapes_root, "training")
    config = video_config("cpu", **{**TINY, "epochs": 2})
    plain = train_video_model(config, train[:2])
    watched = train_video_model(config, train[:2], val_clips=train[2:])
    assert "epoch_val_mse" not in plain.training
    assert len(watched.training["epoch_val_mse"]) == 2
    assert watched.training["epoch_mse"] == plain.training["epoch_mse"]
    final = ClipDataset(train[2:], length=8, stride=8, size=(32, 32),
                        signal=config.input_signal)
    assert watched.training["epoch_val_mse"][-1] == pytest.approx(
        held_out_mse(watched.model, final))


def test_cosine_schedule_anneals_the_learning_rate_to_zero(shapes_root: Path) -> None:
    train = discover_clips(shapes_root, "training")
    base = {**TINY, "epochs": 2}
    constant = train_video_model(video_config("cpu", **{**base, "lr_schedule": "constant"}),
                                 train[:2])
    cosine = train_video_model(video_config("cpu", **{**base, "lr_schedule": "cosine"}),
                               train[:2])
    assert constant.training["final_learning_rate"] == pytest.approx(1e-3)
    assert cosine.training["final_learning_rate"] == pytest.approx(0.0, abs=1e-9)
    assert constant.training["steps"] == cosine.training["steps"]
    # The first step is taken at the full rate either way; afterwards they diverge.
    assert cosine.training["epoch_mse"] != constant.training["epoch_mse"]


def test_unknown_schedule_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="lr_schedule: got 'step'"):
        video_config("cpu", lr_schedule="step")
