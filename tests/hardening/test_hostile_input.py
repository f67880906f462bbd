"""Hostile input: every outcome is a valid result or a clear ValueError/TypeError.

Never a NaN score passed off as a result, an exception of another type from
deep inside torch or numpy, a hang, or code run from a data or model file.
"""

from __future__ import annotations

import io
import json
import pickle
import re
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image
from safetensors import safe_open
from safetensors.torch import save_file

from memae import MemAEDetector, MemAEEnsemble
from memae.data import images, load_table
from memae.data.chunks import read_chunks
from memae.data.image_guard import open_image
from memae.data.images import read_image
from memae.model_file import ModelFileError
from memae.training_checkpoint import load_checkpoint
from memae.video.detector import VideoDetector
from memae.video.transforms import FrameTransform, load_frame
from tests.conftest import FAST
from tests.video.conftest import tiny_video_model

CLEAR = (ValueError, TypeError)
QUICK = settings(max_examples=25, deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture,
                                        HealthCheck.too_slow])
DTYPES = st.sampled_from([np.float16, np.float32, np.float64, np.int8, np.int64, np.uint8,
                          np.bool_, np.complex64, np.dtype("<U3"), np.dtype("O")])
# Floats from tiny to beyond float32's range (3.4e38), with NaN and infinities.
VALUES = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64),
                   st.sampled_from([0.0, 1.0, -1.0, 1e30, -1e30, 3e38, 1e39]))


def _array(dtype: np.dtype, shape: tuple[int, ...], draw_values: list[float]) -> np.ndarray:
    values = np.resize(np.array(draw_values or [0.0]), shape)
    with np.errstate(all="ignore"):
        if np.dtype(dtype).kind in "iub":
            return np.nan_to_num(values, posinf=1, neginf=-1).clip(-100, 100).astype(dtype)
        if np.dtype(dtype).kind == "U":
            return values.astype(str).astype(dtype)
        return values.astype(dtype)


@st.composite
def hostile_arrays(draw, max_dims: int = 5) -> np.ndarray:
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=max_dims, min_side=0, max_side=4))
    return _array(draw(DTYPES), shape, draw(st.lists(VALUES, max_size=8)))


@st.composite
def plausible_arrays(draw) -> np.ndarray:
    """Tables of finite floats, some of them huge: inputs that should mostly fit."""
    shape = (draw(st.integers(2, 12)), draw(st.integers(1, 4)))
    finite = st.one_of(st.floats(-1e3, 1e3), st.sampled_from([1e30, -1e30, 3e38]))
    dtype = draw(st.sampled_from([np.float32, np.float64, np.int64]))
    return _array(dtype, shape, draw(st.lists(finite, min_size=1, max_size=24)))


def _is_valid(detector: MemAEDetector, scores: np.ndarray, n: int) -> bool:
    return scores.shape == (n,) and bool(np.isfinite(scores).all())


@QUICK
@given(X=st.one_of(hostile_arrays(), plausible_arrays()))
def test_fit_gives_a_model_or_a_clear_error(X: np.ndarray) -> None:
    try:
        detector = MemAEDetector(**{**FAST, "epochs": 1, "batch_size": 8}, memory_size=4).fit(X)
    except CLEAR as error:
        assert str(error)
        return
    assert _is_valid(detector, detector.decision_scores_, len(X))
    assert np.isfinite(detector.threshold_)


@pytest.fixture(scope="module")
def tabular() -> MemAEDetector:
    X = np.random.default_rng(0).normal(size=(80, 4)).astype(np.float32)
    return MemAEDetector(**{**FAST, "epochs": 2}).fit(X)


@QUICK
@given(X=hostile_arrays(max_dims=3))
def test_scoring_gives_finite_scores_or_a_clear_error(tabular, X: np.ndarray) -> None:
    try:
        scores = tabular.decision_function(X)
    except CLEAR as error:
        assert str(error)
        return
    assert _is_valid(tabular, scores, len(X))


@QUICK
@given(value=st.sampled_from([1e10, 1e19, 1e30, -1e30, 3e38]), column=st.integers(0, 3))
def test_huge_values_never_give_nan_scores(tabular, value: float, column: int) -> None:
    X = np.zeros((5, 4), np.float32)
    X[2, column] = value
    try:
        scores = tabular.decision_function(X)
    except ValueError as error:
        assert "rows [2]" in str(error) and "overflow" in str(error)
        return
    assert np.isfinite(scores).all() and scores.argmax() == 2


def test_huge_training_values_standardise_without_overflow() -> None:
    X = np.random.default_rng(0).normal(size=(60, 3)).astype(np.float32)
    X[:, 1] = np.where(X[:, 1] > 0, 3e38, -3e38)  # x - mean alone would overflow float32
    detector = MemAEDetector(**{**FAST, "epochs": 2}).fit(X)
    assert np.isfinite(detector.decision_scores_).all()
    assert np.isfinite(detector.scale_std_).all()


@pytest.fixture(scope="module")
def model_bytes(tabular, tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("model") / "m.safetensors"
    tabular.save(path)
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


class _Payload:
    def __reduce__(self):
        return (Path.write_text, (Path(_Payload.marker), "pwned"))


@pytest.mark.parametrize("target", ["model", "checkpoint", "npy", "table"])
def test_planted_pickles_stay_inert(tmp_path: Path, target: str) -> None:
    marker = tmp_path / "executed"
    _Payload.marker = str(marker)
    path = tmp_path / "planted"
    path.write_bytes(pickle.dumps({"weights": _Payload()}))
    if target == "npy":  # a real NPY header in front of an object array pickle
        with path.open("wb") as handle:
            np.save(handle, np.array([_Payload()], dtype=object), allow_pickle=True)
    load = {"model": MemAEDetector.load, "checkpoint": load_checkpoint,
            "npy": load_table, "table": load_table}[target]
    with pytest.raises(CLEAR):
        load(path)
    assert not marker.exists()


def _png_header(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` x ``height`` pixels but holds none."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def test_decompression_bomb_is_refused_before_decoding(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_png_header(100_000, 100_000))
    with pytest.raises(ValueError, match="(?i)decompression bomb"):
        load_frame(bomb)  # Pillow's own limit (179 M pixels)
    with pytest.raises(ValueError, match="(?i)decompression bomb"):
        open_image(_png_header(10_000, 9_000))  # Pillow's warning (89 M), made an error
    with pytest.raises(ValueError, match="7000 x 7000.*decompression bomb"):
        open_image(_png_header(7_000, 7_000))  # memae's limit (40 M)


@pytest.fixture(scope="module")
def frame_files() -> dict[str, bytes]:
    pixels = (np.arange(48 * 64) % 251).astype(np.uint8).reshape(48, 64)
    files = {}
    for fmt in ("PNG", "JPEG", "BMP"):
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format=fmt)
        files[fmt] = buffer.getvalue()
    return files


@QUICK
@given(fmt=st.sampled_from(["PNG", "JPEG", "BMP"]), cut=st.floats(0, 0.99))
def test_truncated_frames_fail_clearly(frame_files, tmp_path, fmt: str, cut: float) -> None:
    data = frame_files[fmt]
    path = tmp_path / f"frame.{fmt.lower()}"
    path.write_bytes(data[:int(cut * len(data))])
    try:
        frame = load_frame(path, size=(32, 32))
    except ValueError as error:
        assert str(path) in str(error) or "image" in str(error)
        return
    # Pillow may pad a JPEG that lost only its tail; the result is still a frame.
    assert frame.shape == (32, 32) and np.isfinite(frame).all()


def test_missing_frame_and_transform_of_an_oversized_image() -> None:
    with pytest.raises(FileNotFoundError):
        load_frame("no/such/frame.png")
    with pytest.raises(ValueError, match="decompression bomb"):
        FrameTransform((8, 8))(Image.open(io.BytesIO(_png_header(7_000, 7_000))))


@pytest.mark.parametrize("content", [b"", b"\x00" * 64, b"RIFF....AVI LIST" * 8])
def test_corrupt_video_files_fail_clearly(tmp_path: Path, content: bytes) -> None:
    pytest.importorskip("av")
    from memae.video.frames import VideoClip, count_video_frames

    path = tmp_path / "broken.avi"
    path.write_bytes(content)
    with pytest.raises(ValueError):
        count_video_frames(path)
    with pytest.raises(ValueError):
        VideoClip("broken", path, 4).read([0, 1])


@settings(max_examples=60, deadline=None)
@given(n=st.integers(2, 60), batch_size=st.integers(1, 20), ranks=st.integers(1, 3))
def test_batches_cover_every_sample_once(n: int, batch_size: int, ranks: int) -> None:
    import torch

    from memae.training import batch_indices

    batches = batch_indices(n, batch_size, torch.Generator().manual_seed(0), min_size=ranks)
    assert sorted(np.concatenate(batches).tolist()) == list(range(n))
    if len(batches) > 1 and batch_size >= max(2, ranks):  # a short tail joins the one before
        assert min(len(b) for b in batches) >= max(2, ranks)


def test_a_single_trailing_sample_joins_the_only_other_batch() -> None:
    # 10 rows, 1 held out: batches of 8 and 1; the 1 used to crash with IndexError.
    X = np.random.default_rng(0).normal(size=(10, 2)).astype(np.float32)
    detector = MemAEDetector(**{**FAST, "epochs": 1, "batch_size": 8}, memory_size=4).fit(X)
    assert detector.n_train_ == 9 and np.isfinite(detector.decision_scores_).all()


def _rewrite(source: bytes, path: Path, edit_meta=None, edit_tensors=None,
             key: str = "memae") -> Path:
    """A copy of a model file with its JSON document and/or tensors edited."""
    original = path.with_suffix(".orig")
    original.write_bytes(source)
    with safe_open(str(original), framework="pt") as f:
        header = f.metadata()
        tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
    meta = json.loads(header[key])
    if edit_meta is not None:
        edit_meta(meta)
    if edit_tensors is not None:
        edit_tensors(tensors)
    save_file(tensors, str(path), metadata={key: json.dumps(meta)})
    return path


def _set(where: tuple[str, ...], value):
    def edit(meta: dict) -> None:
        for key in where[:-1]:
            meta = meta[key]
        meta[where[-1]] = value
    return edit


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
    path = _rewrite(model_bytes, tmp_path / "m.safetensors", _set(where, value))
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
    path = _rewrite(model_bytes, tmp_path / "m.safetensors",
                    edit_tensors=lambda tensors: damage(tensors[name]))
    with pytest.raises(ModelFileError, match=re.escape(name)):
        MemAEDetector.load(path)


@pytest.fixture(scope="module")
def video_model_bytes(tmp_path_factory) -> bytes:
    model, _ = tiny_video_model(tmp_path_factory.mktemp("video"), size=(32, 32), n_frames=12,
                                seed=1, file_name="v.safetensors")
    return model.read_bytes()


@pytest.mark.parametrize("edit, field", [
    (lambda m: m.pop("config"), "config"), (_set(("training",), None), "training"),
    (_set(("config", "size"), 5), "config"), (_set(("config", "size"), [100000, 100000]),
                                              "4096 x 4096"),
    (_set(("training", "map_scale"), -1), "training.map_scale"),
    (_set(("config", "model_params", "foo"), 1), "config"),
])
def test_edited_video_model_files_are_refused_naming_the_field(video_model_bytes, tmp_path,
                                                               edit, field) -> None:
    path = _rewrite(video_model_bytes, tmp_path / "v.safetensors", edit)
    with pytest.raises(ValueError, match=re.escape(field)) as caught:
        VideoDetector.load(path)
    assert str(path) in str(caught.value)


def test_video_model_with_broken_json_is_refused(tmp_path) -> None:
    path = tmp_path / "v.safetensors"
    save_file({"w": torch.zeros(1)}, str(path), metadata={"memae": "{not json"})
    with pytest.raises(ValueError, match="corrupt memae metadata"):
        VideoDetector.load(path)


@QUICK
@given(X=hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1,
                                                 max_side=5),
                    elements=st.floats(-1e6, 1e6, allow_nan=False)),
       delimiter=st.sampled_from(list(",;\t|")), bom=st.booleans(), quote=st.booleans())
def test_csv_dialects_read_the_same_table(tmp_path, X, delimiter, bom, quote) -> None:
    names = [f"col {j}" if quote else f"c{j}" for j in range(X.shape[1])]
    cell = (lambda v: f'"{v!r}"') if quote else repr
    lines = [delimiter.join(f'"{n}"' if quote else n for n in names)]
    lines += [delimiter.join(cell(float(v)) for v in row) for row in X]
    path = tmp_path / "t.csv"
    path.write_text(("\ufeff" if bom else "") + "\n".join(lines) + "\n", encoding="utf-8")
    table = load_table(path)
    assert table.feature_names == tuple(names)
    np.testing.assert_array_equal(table.X, X)
    streamed = np.concatenate(list(read_chunks(path, chunk_rows=2).chunks))
    np.testing.assert_array_equal(streamed, X.astype(np.float32))


@pytest.mark.parametrize("text, match", [
    ('a;b\n0,189;2\n1,5;3\n', "decimal commas.*'0,189'"),
    ('a,b\n"0,189",2\n"-1,5",3\n', "decimal commas.*'0,189'"),
    ("a,a,b\n1,2,3\n", "two columns named 'a'"),
    ("a,b\n1,2\n3\n", "not a readable CSV"),
])
def test_csv_that_would_be_misread_is_refused(tmp_path, text: str, match: str) -> None:
    path = tmp_path / "t.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=match) as caught:
        load_table(path)
    assert "t.csv" in str(caught.value)


def test_csv_that_is_not_utf8_names_the_file(tmp_path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes("a,b\n1,é\n".encode("latin-1") + b"2,3\n" * 30000)
    with pytest.raises(ValueError, match=r"t\.csv.*not UTF-8"):
        load_table(path)


@pytest.mark.parametrize("color", ["gray", "rgb"])
def test_16_bit_images_are_scaled_by_their_bit_depth(tmp_path, color: str) -> None:
    pixels = np.random.default_rng(0).integers(0, 65536, size=(6, 7), dtype=np.uint16)
    path = tmp_path / "wide.png"
    Image.fromarray(pixels).save(path)
    image = read_image(path, color=color)
    assert image.shape == ((1 if color == "gray" else 3), 6, 7)
    np.testing.assert_allclose(image[0], pixels / 65535.0, atol=1e-6)
    resized = read_image(path, size=(3, 3))
    assert 0.0 <= resized.min() and resized.max() <= 1.0 and (resized < 1.0).mean() > 0.5


def test_image_folders_that_would_not_fit_in_memory_are_refused(tmp_path, monkeypatch) -> None:
    for i in range(4):
        Image.fromarray(np.full((16, 16), 60 * i, np.uint8)).save(tmp_path / f"{i}.png")
    monkeypatch.setattr(images, "physical_memory", lambda: 2048)  # a 2 KiB machine
    with pytest.raises(ValueError, match=r"4 images .* need .* GiB as float32, more than"):
        images.load_image_folder(tmp_path)
    assert images.load_image_folder(tmp_path, size=(8, 8)).images.shape == (4, 1, 8, 8)


@pytest.mark.parametrize("where, value, field", [
    (("threshold",), float("nan"), "threshold"),
    (("members",), [], "members"),
    (("params", "n_estimators"), 3, "members"),
])
def test_edited_ensemble_fields_are_refused_naming_the_field(tmp_path, where, value,
                                                             field) -> None:
    X = np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32)
    path = tmp_path / "e.safetensors"
    MemAEEnsemble(MemAEDetector(**{**FAST, "epochs": 1}), n_estimators=2, max_samples=20,
                  random_state=0).fit(X).save(path)
    edited = _rewrite(path.read_bytes(), tmp_path / "edited.safetensors", _set(where, value))
    with pytest.raises(ModelFileError, match=re.escape(field)):
        MemAEEnsemble.load(edited)
    member = _rewrite(path.read_bytes(), tmp_path / "member.safetensors",
                      _set(("members", 1, "params", "score_batch_size"), 0))
    with pytest.raises(ModelFileError, match=r"members\[1\]\.params\.score_batch_size"):
        MemAEEnsemble.load(member)
