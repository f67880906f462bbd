"""Training and scoring data read the same way: one-hot columns, labels, column checks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from memae.data.inputs import InputSpec, binary_labels, fit_inputs, load_inputs, spec_for_model

TRAIN = "id,a,b,proto,label\n1,0.5,1,tcp,normal\n2,1.5,2,udp,normal\n3,2.5,3,icmp,attack\n"


@pytest.fixture
def train_csv(tmp_path: Path) -> Path:
    path = tmp_path / "train.csv"
    path.write_text(TRAIN)
    return path


def _fit(path: Path) -> tuple:
    return fit_inputs(path, label_col="label", ignore_cols=["id"], normal_labels=["normal"])


def test_one_hot_encoding_is_identical_at_score_time(train_csv: Path, tmp_path: Path) -> None:
    inputs, spec = _fit(train_csv)
    assert spec.feature_names == ["a", "b", "proto=icmp", "proto=tcp", "proto=udp"]
    np.testing.assert_array_equal(inputs.X, [[0.5, 1, 0, 1, 0], [1.5, 2, 0, 0, 1],
                                             [2.5, 3, 1, 0, 0]])
    np.testing.assert_array_equal(inputs.y, [0, 0, 1])
    # Score file: other row order, one unseen category, no id or label column.
    score = tmp_path / "score.csv"
    score.write_text("a,b,proto\n9,8,udp\n7,6,gre\n")
    spec = InputSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    scored = load_inputs(score, spec)
    np.testing.assert_array_equal(scored.X, [[9, 8, 0, 0, 1], [7, 6, 0, 0, 0]])
    assert scored.y is None and scored.ids == ("0", "1")


@pytest.mark.parametrize(("text", "match"), [
    ("a,proto\n1,tcp\n", r"missing \['b'\]"),
    ("a,b,c,proto\n1,2,3,tcp\n", r"unexpected \['c'\]"),
    ("a,b\n1,2\n", r"categorical columns .*missing \['proto'\]"),
])
def test_missing_or_added_column_is_named(train_csv: Path, tmp_path: Path, text: str,
                                          match: str) -> None:
    _, spec = _fit(train_csv)
    path = tmp_path / "score.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=match):
        load_inputs(path, spec)


def test_text_labels_need_normal_labels(train_csv: Path) -> None:
    with pytest.raises(ValueError, match="--normal-labels"):
        fit_inputs(train_csv, label_col="label", ignore_cols=["id"])
    np.testing.assert_array_equal(binary_labels(np.array([0, 1, 1]), (), "y"), [0, 1, 1])
    np.testing.assert_array_equal(binary_labels(np.array(["n", "x"]), ["n"], "y"), [0, 1])


def test_npz_and_images(tmp_path: Path) -> None:
    X = np.arange(12, dtype=np.float32).reshape(4, 3)
    np.savez(tmp_path / "t.npz", X=X, y=np.array([0, 0, 1, 0]))
    inputs, spec = fit_inputs(tmp_path / "t.npz")
    np.testing.assert_array_equal(inputs.X, X)
    np.testing.assert_array_equal(inputs.y, [0, 0, 1, 0])
    with pytest.raises(ValueError, match="trained on table"):
        load_inputs(tmp_path, spec)
    for cls in ("ok", "ko"):
        (tmp_path / "img" / cls).mkdir(parents=True)
        Image.fromarray(np.full((3, 3), 255, np.uint8)).save(tmp_path / "img" / cls / "0.png")
    inputs, spec = fit_inputs(tmp_path / "img", normal_labels=["ok"], image_size=[4, 4])
    assert inputs.X.shape == (2, 1, 4, 4) and spec.sample_shape == [1, 4, 4]
    np.testing.assert_array_equal(inputs.y, [1, 0])  # ko, ok
    assert spec_for_model([3, 8, 8]).color == "rgb"
