"""The one model-file schema: identical scores after save/load for every kind, files of
memae 0.1.0, no unpickling, atomic writes, clear errors."""

from __future__ import annotations

import json
import os
import pickle
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from safetensors import safe_open
from safetensors.torch import load_file, save_file

import memae
from memae import MemAEDetector, MemAEEnsemble, VideoDetector
from memae.loading import read_metadata
from memae.model_file import FORMAT_VERSION, METADATA_KEY, ModelFileError, read_model_file
from memae.video.decode import open_clip
from tests.conftest import FAST, QUICK, plant_pickle, rewrite_model_file, set_field

LEGACY = Path(__file__).parent / "legacy_files"


@pytest.fixture(scope="module")
def fitted(tmp_path_factory) -> tuple[MemAEDetector, Path]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 6)).astype(np.float32) * 3 + 1
    detector = MemAEDetector(**{**FAST, "epochs": 4}, target_fpr=0.1).fit(X)
    path = tmp_path_factory.mktemp("model") / "model.safetensors"
    detector.save(path)
    return detector, path


def test_round_trip_gives_identical_scores(fitted) -> None:
    detector, path = fitted
    X = np.random.default_rng(5).normal(size=(50, 6))
    loaded = MemAEDetector.load(path)
    np.testing.assert_array_equal(loaded.decision_function(X), detector.decision_function(X))
    np.testing.assert_array_equal(loaded.predict(X), detector.predict(X))
    np.testing.assert_array_equal(loaded.decision_scores_, detector.decision_scores_)
    assert loaded.threshold_ == detector.threshold_
    assert loaded.get_params() == {**detector.get_params(), "device": "cpu"}
    assert loaded.history_.train_loss == detector.history_.train_loss


def test_image_model_round_trip(tmp_path: Path) -> None:
    X = np.random.default_rng(0).random((24, 1, 10, 10)).astype(np.float32)
    detector = MemAEDetector(**{**FAST, "epochs": 2}, memory_size=8).fit(X)
    loaded = MemAEDetector.load(detector.save(tmp_path / "img.safetensors"))
    np.testing.assert_array_equal(loaded.decision_function(X), detector.decision_function(X))
    np.testing.assert_array_equal(loaded.explain(X[:3]), detector.explain(X[:3]))


def test_metadata_is_plain_json(fitted) -> None:
    _, path = fitted
    meta = read_metadata(path)
    assert meta["format_version"] == FORMAT_VERSION
    assert meta["model"]["name"] == "mlp"
    assert meta["model"]["config"]["in_features"] == 6
    assert meta["training"]["n_train"] + meta["training"]["n_val"] == 120
    assert json.loads(json.dumps(meta)) == meta


def test_planted_pickle_is_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    path = tmp_path / "model.safetensors"
    path.write_bytes(pickle.dumps(Payload()))
    with pytest.raises(ValueError, match="not a memae model file"):
        MemAEDetector.load(path)
    torch_file = tmp_path / "model.pt"
    torch_file.write_bytes(pickle.dumps({"weights": Payload()}))
    with pytest.raises(ValueError, match="not a memae model file"):
        MemAEDetector.load(torch_file)
    assert not marker.exists()


def test_wrong_format_version_is_refused(fitted, tmp_path: Path) -> None:
    _, path = fitted
    meta = read_metadata(path)
    meta["format_version"] = FORMAT_VERSION + 1
    tensors = _tensors(path)
    bad = tmp_path / "future.safetensors"
    save_file(tensors, bad, metadata={METADATA_KEY: json.dumps(meta)})
    with pytest.raises(ValueError, match="format version 3.*reads versions 1 and 2"):
        MemAEDetector.load(bad)


def test_mismatched_shapes_are_refused(fitted, tmp_path: Path) -> None:
    _, path = fitted
    meta = read_metadata(path)
    meta["model"]["config"]["latent_dim"] = 5
    bad = tmp_path / "edited.safetensors"
    save_file(_tensors(path), bad, metadata={METADATA_KEY: json.dumps(meta)})
    with pytest.raises(ValueError, match="weights do not fit the stored model config"):
        MemAEDetector.load(bad)


def test_foreign_safetensors_and_missing_file(tmp_path: Path) -> None:
    foreign = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(2)}, foreign)
    with pytest.raises(ValueError, match="no memae metadata"):
        MemAEDetector.load(foreign)
    with pytest.raises(FileNotFoundError, match="no model file"):
        MemAEDetector.load(tmp_path / "nope.safetensors")


def test_save_is_atomic_and_leaves_no_temporary_files(fitted, tmp_path: Path,
                                                      monkeypatch) -> None:
    detector, _ = fitted
    target = tmp_path / "model.safetensors"
    detector.save(target)
    before = target.read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("memae.safefile.save_file", broken)
    with pytest.raises(OSError, match="disk full"):
        detector.save(target)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.safetensors"]


def test_saved_file_gets_default_permissions(fitted, tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        path = fitted[0].save(tmp_path / "shared.safetensors")
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644


def test_unfitted_and_directory_targets(fitted, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not fitted"):
        MemAEDetector().save(tmp_path / "m.safetensors")
    with pytest.raises(ValueError, match="is a directory"):
        fitted[0].save(tmp_path)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU to train on")
def test_gpu_model_loads_on_cpu(tmp_path: Path) -> None:
    X = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    detector = MemAEDetector(**{**FAST, "device": "cuda", "epochs": 2}).fit(X)
    loaded = MemAEDetector.load(detector.save(tmp_path / "gpu.safetensors"), device="cpu")
    np.testing.assert_allclose(loaded.decision_function(X), detector.decision_function(X),
                               rtol=1e-4)


def _tensors(path: Path) -> dict[str, torch.Tensor]:
    return load_file(path)


@pytest.mark.parametrize("name, kind, cls", [
    ("detector-0.1.0.safetensors", "detector", MemAEDetector),
    ("ensemble-0.1.0.safetensors", "ensemble", MemAEEnsemble),
])
def test_files_written_by_memae_0_1_0_load_with_the_same_scores(name, kind, cls) -> None:
    path = LEGACY / name
    assert read_model_file(path).kind == kind
    for model in (memae.load(path), cls.load(path)):
        assert type(model) is cls
        scores = model.decision_function(np.load(LEGACY / "tabular-rows.npy"))
        np.testing.assert_allclose(scores, np.load(path.with_name(name.replace(
            ".safetensors", "-scores.npy"))), rtol=1e-6)


def test_a_video_file_of_memae_0_1_0_loads_and_scores_as_it_did() -> None:
    path = LEGACY / "video-0.1.0.safetensors"
    detector = memae.load(path)
    assert type(detector) is VideoDetector and detector.config.random_state == 0
    assert detector.history_.steps == 2 and detector.training_["map_scale"] > 0
    raw = [r.score for r in detector.raw_scores(open_clip(LEGACY / "video-frames"))]
    np.testing.assert_allclose(raw, np.load(LEGACY / "video-0.1.0-scores.npy"), rtol=1e-5)


def test_a_0_1_0_video_file_with_a_withdrawn_score_option_says_how_to_convert(tmp_path
                                                                             ) -> None:
    source = LEGACY / "video-0.1.0.safetensors"
    with safe_open(str(source), framework="pt") as f:
        meta = json.loads(f.metadata()["memae_video"])
    meta["config"]["score_normalization"] = "ratio"
    path = tmp_path / "old.safetensors"
    save_file(load_file(source), str(path), metadata={"memae_video": json.dumps(meta)})
    with pytest.raises(ValueError, match="score_normalization='ratio'.*memae train --kind video"):
        memae.load(path)


@pytest.mark.parametrize("name, other", [("detector-0.1.0.safetensors", VideoDetector),
                                         ("video-0.1.0.safetensors", MemAEDetector),
                                         ("ensemble-0.1.0.safetensors", MemAEDetector)])
def test_a_file_of_another_kind_is_refused_with_how_to_load_it(name, other) -> None:
    with pytest.raises(ValueError, match=r"holds an? \w+ model, not an? .*memae.load\(path\)"):
        other.load(LEGACY / name)


def test_an_unknown_kind_is_refused_naming_the_field(fitted, tmp_path) -> None:
    _, path = fitted
    meta = read_metadata(path)
    meta["kind"] = "graph"
    bad = tmp_path / "graph.safetensors"
    save_file(_tensors(path), bad, metadata={METADATA_KEY: json.dumps(meta)})
    with pytest.raises(ValueError, match="kind is 'graph'"):
        memae.load(bad)


@pytest.fixture(scope="module")
def model_bytes(small_detector, tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("model") / "m.safetensors"
    small_detector.save(path)
    return path.read_bytes()


@QUICK
@given(data=st.data())
def test_corrupt_model_files_load_or_fail_clearly(model_bytes, tmp_path, data) -> None:
    damage = data.draw(st.sampled_from(["truncate", "flip", "garbage"]))
    raw = bytearray(model_bytes)
    if damage == "truncate":
        raw = raw[:data.draw(st.integers(0, len(raw) - 1))]
    elif damage == "flip":
        for position in data.draw(st.lists(st.integers(0, len(raw) - 1), min_size=1,
                                           max_size=4)):
            raw[position] ^= 0xFF
    else:
        raw = bytearray(data.draw(st.binary(max_size=300)))
    path = tmp_path / "m.safetensors"
    path.write_bytes(bytes(raw))
    try:
        detector = MemAEDetector.load(path)
        scores = detector.decision_function(np.zeros((3, 4), np.float32))
    except ValueError as error:
        assert str(path) in str(error) or "X:" in str(error)
        return
    assert np.isfinite(scores).all()


# (field path, edited value): each must be refused on load with the field named.
FIELD_EDITS = [(("threshold",), float("nan")), (("threshold",), "high"),
               (("params", "score_batch_size"), 0), (("params", "score_batch_size"), -1),
               (("params", "contamination"), 2.0), (("params", "colour"), 1),
               (("input_shape",), [5]), (("input_shape",), [2, 2]), (("input_shape",), 4),
               (("n_features_in",), 7), (("training",), None), (("training", "n_train"), "x"),
               (("training", "train_loss"), [float("inf")]), (("model", "name"), "vae"),
               (("model",), 3), (("model", "config"), None)]


@QUICK
@given(edit=st.sampled_from(FIELD_EDITS))
def test_edited_model_fields_are_refused_naming_the_field(model_bytes, tmp_path,
                                                           edit) -> None:
    where, value = edit
    path = rewrite_model_file(model_bytes, tmp_path / "m.safetensors", set_field(where, value))
    with pytest.raises(ModelFileError, match=re.escape(str(path))) as caught:
        MemAEDetector.load(path)
    assert ".".join(where) in str(caught.value) or "params" in str(caught.value)


@pytest.mark.parametrize("name, damage", [
    ("model.encoder.0.weight", lambda t: t.fill_(float("nan"))),
    ("scale.std", lambda t: t.zero_()),
    ("scale.mean", lambda t: t.fill_(float("inf"))),
    ("train.decision_scores", lambda t: t.fill_(float("nan"))),
])
def test_edited_model_tensors_are_refused_naming_the_tensor(model_bytes, tmp_path, name,
                                                            damage) -> None:
    path = rewrite_model_file(model_bytes, tmp_path / "m.safetensors",
                    edit_tensors=lambda tensors: damage(tensors[name]))
    with pytest.raises(ModelFileError, match=re.escape(name)):
        MemAEDetector.load(path)


def test_planted_pickles_stay_inert(tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    with pytest.raises((ValueError, TypeError)):
        MemAEDetector.load(plant_pickle(tmp_path / "planted", marker))
    assert not marker.exists()
