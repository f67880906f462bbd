"""VideoDetector: training on synthetic clips (AUC floor, reproducibility, precision), the
presets and ablation variants, held-out clips and early stopping, the learning-rate
schedule, checkpoints and bitwise resume, frame scores, clip discovery and the model file."""

from __future__ import annotations

import copy
import json
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

import memae
from memae import MemAEDetector, training_checkpoint
from memae.ablation import variant_params
from memae.memory import Memory
from memae.training import cosine_learning_rate, mean_reconstruction_loss
from memae.training_checkpoint import CHECKPOINT_NAME, load_checkpoint
from memae.video import discover_clips, make_synthetic_videos, write_frame_folders
from memae.video.clips import ClipDataset
from memae.video.config import VideoConfig
from memae.video.decode import iter_frames
from memae.video.detector import VideoDetector, preset_config, resolve_clips
from memae.video.evaluate import evaluate_mode
from memae.video.temporal import moving_average
from tests.conftest import rewrite_model_file, set_field
from tests.video.conftest import tiny_video_model

CPU = torch.device("cpu")
# The ped2-cpu preset's input (frame differences) with a tiny net trained for 39 steps at
# a constant, higher learning rate (the preset's settings are meant for thousands of
# steps), scoring frames as the paper does, without temporal smoothing.
TINY: dict[str, Any] = {"size": (32, 32), "clip_length": 8, "epochs": 3, "smoothing": 5,
                        "learning_rate": 1e-3, "lr_schedule": "constant",
                        "model_params": {"channels": (8, 16, 16, 16)},
                        "temporal_smoothing": 1}
# Fewer windows per epoch (one start every 4 frames): for tests of the training loop's
# bookkeeping, which need epochs but no accuracy.
CHEAP: dict[str, Any] = {**TINY, "train_stride": 4}


def tiny(**changes: Any) -> VideoDetector:
    """A CPU detector of the ped2-cpu preset with the TINY settings and ``changes``."""
    return VideoDetector(preset_config("ped2-cpu").replace(**{**TINY, **changes}),
                         device="cpu")


def cheap(**changes: Any) -> VideoDetector:
    """As :func:`tiny`, with the CHEAP settings."""
    return tiny(**{**CHEAP, **changes})


def same_weights(a: VideoDetector, b: VideoDetector) -> bool:
    first, second = a.model_.state_dict(), b.model_.state_dict()
    return first.keys() == second.keys() and all(torch.equal(first[k], second[k])
                                                 for k in first)


def held_out_dataset(clips: list, config: VideoConfig) -> ClipDataset:
    """The held-out clips' windows as fit reads them: non-overlapping, in config's signal."""
    return ClipDataset(clips, length=config.clip_length, stride=config.clip_length,
                       size=config.size, signal=config.input_signal)


@pytest.fixture(scope="module")
def shapes_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    videos = make_synthetic_videos(n_train=3, n_test=3, n_frames=40, seed=0, anomaly="shape")
    return write_frame_folders(videos, tmp_path_factory.mktemp("shapes"))


@pytest.fixture(scope="module")
def train_clips(shapes_root: Path) -> list:
    return discover_clips(shapes_root, "training")


# --------------------------------------------------------------------------- training
def test_synthetic_video_end_to_end_reaches_the_auc_floor(shapes_root: Path) -> None:
    test = discover_clips(shapes_root, "testing", labels=shapes_root / "testing" /
                          "test_frame_mask")
    detector = tiny().fit(shapes_root)  # a dataset folder: its training clips
    assert detector.training_["n_train_clips"] == 3 and detector.training_["n_val_clips"] == 0
    assert detector.training_["n_windows"] == 3 * (40 - 8 + 1)
    assert detector.history_.steps == 3 * int(np.ceil(3 * (40 - 8 + 1) / 8))
    assert detector.history_.best_epoch == 3 and not detector.history_.stopped_early
    assert detector.history_.train_mse[-1] < detector.history_.train_mse[0]
    assert detector.training_["map_scale"] > 0 and not detector.model_.training
    sliding = evaluate_mode(detector, test, "sliding")
    fast = evaluate_mode(detector, test, "fast")
    # Measured 0.921 (sliding) and 0.917 (fast) with seed 0; an untrained net scores about
    # 0.5.
    assert sliding.frame_auc >= 0.9 and fast.frame_auc >= 0.9
    assert (sliding.stride, fast.stride) == (1, 8)
    assert [len(s) for s in sliding.scores] == [40, 40, 40]


def test_training_is_reproducible_from_the_seed_with_or_without_workers(
    train_clips: list,
) -> None:
    first = tiny(max_steps=2).fit(train_clips)
    second = tiny(max_steps=2, num_workers=2).fit(train_clips)
    for a, b in zip(first.model_.state_dict().values(), second.model_.state_dict().values(),
                    strict=True):
        torch.testing.assert_close(a, b)
    assert first.history_ == second.history_


@pytest.mark.parametrize("native", [False, True])
def test_bf16_on_a_cpu_that_emulates_it_warns_with_what_to_do(
    train_clips: list, monkeypatch: pytest.MonkeyPatch, native: bool,
) -> None:
    monkeypatch.setattr("memae.training.cpu_has_native_bf16", lambda: native)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cheap(precision="bf16", max_steps=1).fit(train_clips[:1])
        cheap(precision="fp32", max_steps=1).fit(train_clips[:1])
    messages = [str(w.message) for w in caught if w.category is RuntimeWarning]
    emulated = [m for m in messages if "bf16 autocast is emulated" in m]
    assert len(emulated) == (0 if native else 1)
    assert native or "precision='fp32'" in emulated[0]


@pytest.mark.filterwarnings("ignore:precision='bf16'")  # emulated on some CPUs: slow, not wrong
def test_bf16_training_matches_float32_training_closely(train_clips: list) -> None:
    # bf16 autocast changes the arithmetic of the forward pass, not what is learned: a few
    # steps from the same initialisation end near the float32 weights and loss.
    runs = {precision: tiny(precision=precision, max_steps=6).fit(train_clips)
            for precision in ("fp32", "bf16")}
    fp32, bf16 = (runs[p].history_.train_mse[0] for p in ("fp32", "bf16"))
    assert bf16 == pytest.approx(fp32, rel=0.05)
    for a, b in zip(runs["fp32"].model_.state_dict().values(),
                    runs["bf16"].model_.state_dict().values(), strict=True):
        assert b.dtype == a.dtype  # weights stay float32
    assert runs["bf16"].config.precision == "bf16"


def test_paper_preset_is_the_authors_setting_and_trains_on_cpu(train_clips: list) -> None:
    paper = preset_config("ped2-paper")
    assert (paper.size, paper.clip_length, paper.learning_rate, paper.entropy_weight) == (
        (256, 256), 16, 1e-4, 0.0002)
    # The paper's net at a tiny input: 3-D convs 1-96-128-256-256, memory 2000 x 256.
    detector = VideoDetector(paper.replace(size=(32, 32), batch_size=2, num_workers=0,
                                           max_steps=2), device="cpu")
    untrained = detector.build_model()
    memory = untrained.memory
    assert isinstance(memory, Memory)
    assert (memory.num_items, memory.dim, memory.shrink_threshold) == (2000, 256, 0.0025)
    widths = [m.out_channels for m in untrained.encoder.modules()
              if isinstance(m, torch.nn.Conv3d)]
    assert widths == [96, 128, 256, 256]
    detector.fit(train_clips[:1])
    assert detector.history_.steps == 2 and np.isfinite(detector.history_.train_loss[0])
    changed = [not torch.equal(a, b) for a, b in
               zip(untrained.state_dict().values(), detector.model_.state_dict().values(),
                   strict=True)]
    assert any(changed)


def test_ablation_variants(tmp_path: Path) -> None:
    cpu = preset_config("ped2-cpu")
    ae = cpu.replace(**variant_params("AE"))
    nonspar = cpu.replace(**variant_params("MemAE-nonSpar"))
    assert VideoDetector(ae).build_model().memory is None
    memory = VideoDetector(nonspar).build_model().memory
    assert memory is not None and memory.shrink_threshold == 0.0
    assert nonspar.entropy_weight == 0.0 and ae.size == cpu.size
    assert cpu.replace(**variant_params("MemAE")) == cpu
    with pytest.raises(ValueError, match="variant must be one of .*got 'sparse'"):
        variant_params("sparse")
    with pytest.raises(ValueError, match="unknown preset 'gpu'"):
        preset_config("gpu")
    tabular = tmp_path / "rows.yaml"
    tabular.write_text("kind: tabular\ndescription: rows\ndetector:\n  epochs: 2\n")
    with pytest.raises(ValueError, match="is a tabular preset; video models take a video"):
        preset_config(str(tabular))


def test_from_preset_splits_config_fields_from_run_settings() -> None:
    detector = VideoDetector.from_preset("ped2-cpu", epochs=2, device="cpu",
                                         score_batch_size=4)
    assert detector.config == preset_config("ped2-cpu").replace(epochs=2)
    assert (detector.device, detector.score_batch_size) == ("cpu", 4)
    params = detector.get_params()
    assert params["epochs"] == 2 and params["device"] == "cpu"
    assert VideoDetector(epochs=5).config == VideoConfig(epochs=5)
    with pytest.raises(ValueError, match="not fitted yet"):
        list(detector.raw_scores(iter([])))


# ------------------------------------------------------------------ held-out clips
def test_held_out_clips_are_scored_after_every_epoch_without_changing_training(
    train_clips: list,
) -> None:
    watched = cheap(epochs=2, validation_fraction=0.34)
    kept, held = watched._split(train_clips)  # the clips fit trains on and holds out
    assert (len(kept), len(held)) == (2, 1)
    watched.fit(train_clips)
    plain = cheap(epochs=2).fit(kept)
    assert plain.history_.val_loss == []
    assert len(watched.history_.val_loss) == 2
    assert (watched.training_["n_train_clips"], watched.training_["n_val_clips"]) == (2, 1)
    assert watched.history_.train_mse == plain.history_.train_mse
    # The kept weights are those of the best epoch, whose held-out MSE was recorded.
    best = watched.history_.best_epoch
    assert watched.history_.val_loss[best - 1] == min(watched.history_.val_loss)
    assert watched.history_.val_loss[best - 1] == pytest.approx(
        mean_reconstruction_loss(watched.model_, held_out_dataset(held, watched.config), 8,
                                 CPU), rel=1e-6)


def test_early_stopping_restores_the_weights_of_the_best_epoch(
    train_clips: list, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    saved: dict[int, dict[str, torch.Tensor]] = {}
    save = training_checkpoint.save_checkpoint

    def keep_every_epoch(path, state, extra=None):
        if not state.finished:
            saved[state.epoch] = copy.deepcopy(state.model)
        return save(path, state, extra)

    monkeypatch.setattr(training_checkpoint, "save_checkpoint", keep_every_epoch)
    # A learning rate high enough that the held-out MSE turns up within a few epochs
    # (measured with seed 0: best epoch 4, stopped after epoch 5).
    detector = cheap(epochs=8, learning_rate=1e-2, validation_fraction=0.34,
                    patience=1).fit(train_clips, checkpoint_dir=tmp_path)
    history = detector.history_
    assert history.stopped_early
    assert history.best_epoch < len(history.train_loss) < 8
    assert len(history.val_loss) == len(history.train_loss) == len(saved)
    assert history.val_loss[history.best_epoch] >= history.val_loss[history.best_epoch - 1]
    best = saved[history.best_epoch]
    weights = detector.model_.state_dict()
    assert weights.keys() == best.keys()
    assert all(torch.equal(weights[k], best[k]) for k in best)
    _, held = detector._split(train_clips)
    assert history.val_loss[history.best_epoch - 1] == pytest.approx(
        mean_reconstruction_loss(detector.model_, held_out_dataset(held, detector.config), 8,
                                 CPU), rel=1e-6)


def test_held_out_settings_are_checked_before_training(train_clips: list) -> None:
    with pytest.raises(ValueError, match="holds out every one of the 1 training clips"):
        tiny(validation_fraction=0.5).fit(train_clips[:1])
    with pytest.raises(ValueError, match="early stopping watches held-out clips"):
        tiny(patience=2)


# ------------------------------------------------------------- learning-rate schedule
def test_cosine_schedule_anneals_the_learning_rate_every_step(
    train_clips: list, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[float, int, int]] = []

    def recorded(base: float, step: int, total: int) -> float:
        calls.append((base, step, total))
        return cosine_learning_rate(base, step, total)

    monkeypatch.setattr("memae.training.cosine_learning_rate", recorded)
    runs = {schedule: cheap(lr_schedule=schedule, max_steps=5).fit(
                train_clips[:2], checkpoint_dir=tmp_path / schedule)
            for schedule in ("constant", "cosine")}
    # The rate is set before every step, annealed over the run's 5 steps.
    assert calls == [(1e-3, step, 5) for step in range(5)]
    final = {schedule: load_checkpoint(tmp_path / schedule / CHECKPOINT_NAME)[0]
             .optimizer["param_groups"][0]["lr"] for schedule in runs}
    assert final["constant"] == pytest.approx(1e-3)
    assert final["cosine"] == pytest.approx(cosine_learning_rate(1e-3, 4, 5))
    assert final["cosine"] < 0.1 * 1e-3
    assert runs["constant"].history_.steps == runs["cosine"].history_.steps == 5
    # The first step is taken at the full rate either way; afterwards they diverge.
    assert runs["cosine"].history_.train_mse != runs["constant"].history_.train_mse


# ------------------------------------------------------------------ checkpoints, resume
RESUME: dict[str, Any] = {"epochs": 3, "validation_fraction": 0.34, "patience": 2}


def test_resume_after_an_interruption_is_bitwise_identical(
    train_clips: list, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    full = cheap(**RESUME).fit(train_clips, checkpoint_dir=tmp_path / "full")
    save = training_checkpoint.save_checkpoint

    def crash_after_epoch_1(path, state, extra=None):
        save(path, state, extra)
        if state.epoch == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(training_checkpoint, "save_checkpoint", crash_after_epoch_1)
    with pytest.raises(KeyboardInterrupt):
        cheap(**RESUME).fit(train_clips, checkpoint_dir=tmp_path / "run")
    monkeypatch.undo()
    state = load_checkpoint(tmp_path / "run" / CHECKPOINT_NAME)[0]
    assert not state.finished and state.epoch == 1 and len(state.history.train_loss) == 1
    resumed = cheap(**RESUME).fit(train_clips, checkpoint_dir=tmp_path / "run", resume=True)
    assert resumed.history_ == full.history_ and len(full.history_.train_loss) == 3
    assert same_weights(resumed, full)
    assert resumed.training_["map_scale"] == full.training_["map_scale"]
    assert load_checkpoint(tmp_path / "run" / CHECKPOINT_NAME)[0].finished
    clip = train_clips[0]
    np.testing.assert_array_equal(resumed.decision_function(clip, fast=True),
                                  full.decision_function(clip, fast=True))


def test_resume_refuses_a_checkpoint_of_other_clips_or_settings(
    train_clips: list, tmp_path: Path,
) -> None:
    first = cheap(max_steps=1).fit(train_clips[:2], checkpoint_dir=tmp_path)
    with pytest.raises(ValueError, match="another run.*training data"):
        cheap(max_steps=1).fit(train_clips[1:], checkpoint_dir=tmp_path, resume=True)
    with pytest.raises(ValueError, match=r"another run.*\['learning_rate'\]"):
        cheap(learning_rate=0.1, max_steps=1).fit(
            train_clips[:2], checkpoint_dir=tmp_path, resume=True)
    with pytest.raises(ValueError, match="resume=True needs checkpoint_dir"):
        cheap(max_steps=1).fit(train_clips[:2], resume=True)
    # Scoring settings do not change the trained weights: the finished run is taken as it is.
    again = cheap(temporal_smoothing=3, score_stride=2, max_steps=1).fit(
        train_clips[:2], checkpoint_dir=tmp_path, resume=True)
    assert same_weights(again, first) and again.history_ == first.history_


# ------------------------------------------------------------------ clips from paths
def test_resolve_clips_reads_frame_folders_clip_folders_and_datasets(
    synthetic_root: Path, tmp_path: Path,
) -> None:
    frames = synthetic_root / "training" / "frames"
    (one,) = resolve_clips(frames / "01")
    assert (one.name, one.n_frames) == ("01", 40)
    assert [c.name for c in resolve_clips(frames)] == ["01", "02"]
    expected = discover_clips(synthetic_root, "training")
    found = resolve_clips(str(synthetic_root))
    assert [(c.name, c.n_frames) for c in found] == [(c.name, c.n_frames) for c in expected]
    mixed = resolve_clips([expected[1], frames / "01"])
    assert [c.name for c in mixed] == ["02", "01"] and mixed[0] is expected[1]
    with pytest.raises(FileNotFoundError, match="does not exist; pass a video file, a frame "
                                                "folder or a folder of them"):
        resolve_clips(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="holds no frame images, clip folders"):
        resolve_clips(tmp_path / "empty")
    with pytest.raises(ValueError, match="clips: got an empty sequence"):
        resolve_clips([])


# ------------------------------------------------------------- scores and model files
@pytest.fixture(scope="module")
def trained_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return tiny_video_model(tmp_path_factory.mktemp("model"), size=(24, 32), n_frames=24,
                            seed=3, file_name="model.safetensors", temporal_smoothing=5)


def test_decision_function_is_the_moving_average_of_raw_scores(
    trained_file: tuple[Path, Path],
) -> None:
    path, root = trained_file
    detector = VideoDetector.load(path)
    clip = discover_clips(root, "testing")[0]
    for fast in (False, True):
        raw = [r.score for r in detector.raw_scores(clip, fast=fast)]
        expected = moving_average(np.array(raw), 5)
        assert len(raw) == 24 and not np.allclose(raw, expected)
        scores = detector.decision_function(clip, fast=fast)
        np.testing.assert_array_equal(scores, expected)
        streamed = list(detector.score_stream(clip, fast=fast))
        assert [r.index for r in streamed] == list(range(24))
        np.testing.assert_allclose([r.score for r in streamed], expected, rtol=1e-12)
    # A path and a stream of preprocessed frames score like the clip.
    folder = root / "testing" / "frames" / clip.name
    raw = [r.score for r in detector.raw_scores(clip)]
    assert [r.score for r in detector.raw_scores(str(folder))] == raw
    assert [r.score for r in detector.raw_scores(iter_frames(clip, (24, 32)))] == raw
    maps = [r.map for r in detector.raw_scores(clip, keep_maps=True)]
    assert all(m.shape == (24, 32) for m in maps)


def test_round_trip_keeps_config_and_scores(trained_file: tuple[Path, Path]) -> None:
    path, root = trained_file
    loaded = VideoDetector.load(path)
    assert loaded.config.size == (24, 32) and loaded.config.clip_length == 8
    assert loaded.config.model_params["channels"] == (4, 8, 8, 8)
    assert loaded.config.temporal_smoothing == 5 and loaded.config.memory_size == 50
    assert loaded.history_.steps == 2 and not loaded.model_.training
    assert loaded.training_["n_train_clips"] == 1 and loaded.training_["map_scale"] > 0
    clip = discover_clips(root, "testing")[0]
    again = memae.load(path)
    assert isinstance(again, VideoDetector) and again.config == loaded.config
    first, second = loaded.decision_function(clip), again.decision_function(clip)
    assert len(first) == 24
    np.testing.assert_array_equal(first, second)
    with safe_open(str(path), framework="pt") as handle:
        meta = json.loads(handle.metadata()["memae"])
    assert (meta["kind"], meta["format_version"]) == ("video", 2)
    assert meta["config"]["size"] == [24, 32] and meta["config"]["clip_length"] == 8
    assert VideoConfig.from_dict(meta["config"]) == loaded.config
    assert meta["training"]["steps"] == 2 and "map_scale" in meta["training"]
    assert "normalization" not in meta


def test_files_that_are_not_video_models_are_refused(tmp_path: Path) -> None:
    rows = np.random.default_rng(0).normal(size=(32, 4)).astype(np.float32)
    tabular = MemAEDetector(epochs=1, device="cpu").fit(rows).save(tmp_path / "rows.safetensors")
    with pytest.raises(ValueError, match=r"holds a detector model, not a video; load it with "
                                         r"memae\.load\(path\)"):
        VideoDetector.load(tabular)
    other = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(2)}, str(other), metadata={"format": "pt"})
    with pytest.raises(ValueError, match="is a safetensors file but has no memae metadata"):
        VideoDetector.load(other)
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(np.arange(10, dtype=np.int64).tobytes())
    with pytest.raises(ValueError, match="is not a memae model file"):
        VideoDetector.load(garbage)
    with pytest.raises(FileNotFoundError, match="no model file at"):
        VideoDetector.load(tmp_path / "missing.safetensors")


def test_save_refuses_an_unfitted_detector_and_a_folder(
    trained_file: tuple[Path, Path], tmp_path: Path,
) -> None:
    with pytest.raises(ValueError, match="not fitted yet"):
        tiny().save(tmp_path / "m.safetensors")
    with pytest.raises(ValueError, match="is a directory; give a file name"):
        VideoDetector.load(trained_file[0]).save(tmp_path)


def test_resolve_clips_reads_a_split_folder_of_a_dataset(tmp_path: Path) -> None:
    root = write_frame_folders(make_synthetic_videos(n_train=2, n_test=1, n_frames=12, seed=0),
                               tmp_path / "data")
    from_split = resolve_clips(root / "training")
    assert [c.name for c in from_split] == [c.name for c in resolve_clips(root)] == ["01", "02"]


@pytest.fixture(scope="module")
def video_model_bytes(tmp_path_factory) -> bytes:
    model, _ = tiny_video_model(tmp_path_factory.mktemp("video"), size=(32, 32), n_frames=12,
                                seed=1, file_name="v.safetensors")
    return model.read_bytes()


@pytest.mark.parametrize("edit, field", [
    (lambda m: m.pop("config"), "config"), (set_field(("training",), None), "training"),
    (set_field(("config", "size"), 5), "config"), (set_field(("config", "size"), [100000, 100000]),
                                              "4096 x 4096"),
    (set_field(("training", "map_scale"), -1), "training.map_scale"),
    (set_field(("config", "model_params", "foo"), 1), "config"),
])
def test_edited_video_model_files_are_refused_naming_the_field(video_model_bytes, tmp_path,
                                                               edit, field) -> None:
    path = rewrite_model_file(video_model_bytes, tmp_path / "v.safetensors", edit)
    with pytest.raises(ValueError, match=re.escape(field)) as caught:
        VideoDetector.load(path)
    assert str(path) in str(caught.value)


def test_video_model_with_broken_json_is_refused(tmp_path) -> None:
    path = tmp_path / "v.safetensors"
    save_file({"w": torch.zeros(1)}, str(path), metadata={"memae": "{not json"})
    with pytest.raises(ValueError, match="corrupt memae metadata"):
        VideoDetector.load(path)


def test_a_video_detector_trains_on_pseudo_anomalies_and_keeps_the_setting(
        tmp_path: Path) -> None:
    path, _ = tiny_video_model(tmp_path, size=(24, 32), n_frames=24, seed=3,
                               file_name="pseudo.safetensors", pseudo_anomaly=0.5,
                               pseudo_anomaly_kind="patch_or_skip_frames")
    loaded = VideoDetector.load(path)
    assert loaded.config.pseudo_anomaly == 0.5
    assert loaded.config.pseudo_anomaly_kind == "patch_or_skip_frames"
    assert loaded.history_ is not None and len(loaded.history_.train_loss) >= 1


def test_reconstruction_plus_memory_score_standardises_on_normal_windows(
    trained_file: tuple[Path, Path],
) -> None:
    path, root = trained_file
    detector = VideoDetector.load(path)
    stored = detector.training_["score_reference"]
    assert set(stored) == {"error", "root_error", "memory"}
    assert all(len(v) == 2 and v[1] > 0 for v in stored.values())
    assert detector.score_reference() is None  # frame_score="reconstruction"
    clip = discover_clips(root, "testing")[0]
    pixel = np.array([r.score for r in detector.raw_scores(clip)])
    detector.config = detector.config.replace(frame_score="reconstruction+memory")
    reference = detector.score_reference()
    assert reference is not None and reference.memory == tuple(stored["memory"])
    combined = np.array([r.score for r in detector.raw_scores(clip)])
    # Pixel part standardised; the rest is the memory term, not constant over frames.
    memory_part = combined - (pixel - reference.error[0]) / reference.error[1]
    assert memory_part.std() > 0 and not np.allclose(combined, pixel)
    clip_scores = [r.score for r in detector.clip_scores(clip)]
    assert len(clip_scores) == 24 - 8 + 1 and np.isfinite(clip_scores).all()
    # The score is stored with the config; a model without a reference refuses it.
    detector.training_ = {**detector.training_, "score_reference": None}
    with pytest.raises(ValueError, match="frame_score.*retrain"):
        detector.score_reference()


def test_a_plain_autoencoder_has_no_memory_score(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="frame_score.*memory=False"):
        VideoConfig(memory=False, frame_score="reconstruction+memory")
    with pytest.raises(ValueError, match="frame_score: got 'memory'"):
        VideoConfig(frame_score="memory")
    path, _ = tiny_video_model(tmp_path, size=(24, 32), n_frames=20, seed=4,
                               file_name="ae.safetensors", memory=False)
    assert VideoDetector.load(path).training_["score_reference"] is None
