from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import NotFittedError

from memae.data import CategoricalEncoder, Table, load_table
from tests.conftest import plant_pickle

CSV = """id,age,colour,zip,income,label
1,30,red,02134,1.5,0
2,,blue,10001,2.5,1
3,41,red,02134,,0
"""


@pytest.fixture
def csv_path(tmp_path: Path) -> Path:
    path = tmp_path / "people.csv"
    path.write_text(CSV)
    return path


def test_csv_detects_text_columns_as_categorical(csv_path: Path) -> None:
    table = load_table(csv_path, label_col="label", ignore_cols=["id"])
    assert table.feature_names == ("age", "zip", "income")
    assert table.categorical_names == ("colour",)
    np.testing.assert_array_equal(
        table.X, [[30, 2134, 1.5], [np.nan, 10001, 2.5], [41, 2134, np.nan]]
    )
    assert table.X.dtype == np.float64
    assert table.categorical[:, 0].tolist() == ["red", "blue", "red"]
    assert table.y is not None and table.y.dtype == np.int64
    assert table.y.tolist() == [0, 1, 0]


def test_csv_categorical_cols_keep_the_written_text(csv_path: Path) -> None:
    table = load_table(csv_path, label_col="label", categorical_cols=["zip"])
    assert table.categorical_names == ("colour", "zip")
    assert table.categorical[:, 1].tolist() == ["02134", "10001", "02134"]


def test_csv_errors_name_the_problem(csv_path: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"label_col names \['target'\].*choose from"):
        load_table(csv_path, label_col="target")
    with pytest.raises(ValueError, match=r"ignore_cols names \['ID'\]"):
        load_table(csv_path, ignore_cols=["ID"])
    with pytest.raises(TypeError, match="ignore_cols='id' is a string"):
        load_table(csv_path, ignore_cols="id")
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b\n1,2\n3\n")
    # pyarrow names the row only when it parses on one thread
    with pytest.raises(ValueError, match=r"ragged\.csv.*Expected 2 columns, got 1"):
        load_table(ragged)
    with pytest.raises(FileNotFoundError, match="missing.csv"):
        load_table(tmp_path / "missing.csv")


def test_parquet_matches_csv(csv_path: Path, tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    columns = {
        "age": pa.array([30, None, 41], pa.int32()),
        "colour": pa.array(["red", "blue", "red"]).dictionary_encode(),
        "zip": pa.array([2134, 10001, 2134]),
        "income": pa.array([1.5, 2.5, None]),
        "label": pa.array([0, 1, 0], pa.int8()),
    }
    path = tmp_path / "people.data"  # no extension: the format comes from the magic bytes
    pq.write_table(pa.table(columns), path)
    from_parquet = load_table(path, label_col="label")
    from_csv = load_table(csv_path, label_col="label", ignore_cols=["id"])
    assert from_parquet.feature_names == from_csv.feature_names
    np.testing.assert_array_equal(from_parquet.X, from_csv.X)
    np.testing.assert_array_equal(from_parquet.categorical, from_csv.categorical)
    np.testing.assert_array_equal(from_parquet.y, from_csv.y)
    pq.write_table(pa.table({"when": pa.array([1, 2], pa.timestamp("s"))}), path)
    with pytest.raises(TypeError, match="column 'when'.*timestamp"):
        load_table(path)


def test_npy_is_memory_mapped(tmp_path: Path) -> None:
    data = np.arange(12, dtype=np.float32).reshape(4, 3)
    np.save(tmp_path / "x.npy", data)
    table = load_table(tmp_path / "x.npy")
    assert isinstance(table.X, np.memmap) and not table.X.flags.writeable
    assert table.feature_names == ("x0", "x1", "x2")
    np.testing.assert_array_equal(table.X, data)
    labelled = load_table(tmp_path / "x.npy", label_col="x2")
    assert labelled.y is not None and labelled.y.tolist() == [2, 5, 8, 11]
    assert labelled.X.shape == (4, 2)


def test_npz_adbench_layout(tmp_path: Path) -> None:
    X = np.random.default_rng(0).normal(size=(6, 4))
    np.savez(tmp_path / "adb.npz", X=X, y=np.array([0, 0, 1, 0, 1, 0]))
    table = load_table(tmp_path / "adb.npz")
    np.testing.assert_array_equal(table.X, X)
    assert table.y is not None and table.y.tolist() == [0, 0, 1, 0, 1, 0]
    with pytest.raises(ValueError, match="already stores 'y'"):
        load_table(tmp_path / "adb.npz", label_col="x0")
    np.savez(tmp_path / "other.npz", data=X)
    with pytest.raises(ValueError, match=r"keys \['data'\]; expected 'X'"):
        load_table(tmp_path / "other.npz")
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="stores Python objects"):
        load_table(tmp_path / "objects.npy")


def test_encoder_one_hot_and_unknown_categories(csv_path: Path, tmp_path: Path) -> None:
    train = load_table(csv_path, label_col="label", ignore_cols=["id"])
    encoder = CategoricalEncoder().fit(train)
    assert encoder.get_feature_names_out() == [
        "age", "zip", "income", "colour=blue", "colour=red",
    ]  # fmt: skip
    encoded = encoder.transform(train)
    np.testing.assert_array_equal(encoded[:, 3:], [[0, 1], [1, 0], [0, 1]])
    test_path = tmp_path / "test.csv"
    test_path.write_text("id,age,colour,zip,income,label\n9,50,green,1,2.0,1\n")
    test = load_table(test_path, label_col="label", ignore_cols=["id"])
    np.testing.assert_array_equal(encoder.transform(test), [[50, 1, 2.0, 0, 0]])


def test_encoder_round_trips_through_json(csv_path: Path) -> None:
    train = load_table(csv_path, label_col="label", ignore_cols=["id"])
    encoder = CategoricalEncoder().fit(train)
    state = json.loads(json.dumps(encoder.to_dict()))
    assert state == {"numeric": ["age", "zip", "income"], "categories": {"colour": ["blue", "red"]}}
    restored = CategoricalEncoder.from_dict(state)
    np.testing.assert_array_equal(restored.transform(train), encoder.transform(train))
    with pytest.raises(ValueError, match="expected exactly"):
        CategoricalEncoder.from_dict({"numeric": [], "categories": {}, "extra": 1})


def test_encoder_rejects_column_mismatch(csv_path: Path) -> None:
    train = load_table(csv_path, label_col="label", ignore_cols=["id"])
    encoder = CategoricalEncoder().fit(train)
    with pytest.raises(ValueError, match=r"numeric columns.*unexpected \['id'\]"):
        encoder.transform(load_table(csv_path, label_col="label"))
    with pytest.raises(ValueError, match=r"missing \['zip'\]"):
        encoder.transform(load_table(csv_path, label_col="label", ignore_cols=["id", "zip"]))
    with pytest.raises(NotFittedError, match="call fit"):
        CategoricalEncoder().transform(train)


def test_table_validates_shapes() -> None:
    with pytest.raises(ValueError, match="2 feature_names"):
        Table(np.zeros((3, 1)), ("a", "b"), np.empty((3, 0), str), ())
    with pytest.raises(ValueError, match=r"y has shape \(2,\)"):
        Table(np.zeros((3, 1)), ("a",), np.empty((3, 0), str), (), np.zeros(2))


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=20),
    st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), min_size=1, max_size=20),
)
def test_encoder_rows_are_one_hot(train_values: list[str], test_values: list[str]) -> None:
    def table(values: list[str]) -> Table:
        column = np.array(values, dtype=str).reshape(-1, 1)
        return Table(np.zeros((len(values), 0)), (), column, ("c",))

    encoder = CategoricalEncoder().fit(table(train_values))
    encoded = encoder.transform(table(test_values))
    seen = set(train_values)
    # One 1 per row for categories seen in fit, all zeros for unseen ones.
    np.testing.assert_array_equal(encoded.sum(axis=1), [v in seen for v in test_values])
    assert encoded.shape == (len(test_values), len(seen))


@pytest.mark.parametrize("content", [b"PK\x03\x04", b"PK\x03\x04" + bytes(40), b"\x93NUMPY",
                                     b"\x93NUMPY\x01\x00"])
@pytest.mark.parametrize("suffix", [".csv", ".npy", ".npz"])
def test_truncated_numpy_files_are_clear_errors(tmp_path: Path, content: bytes,
                                                suffix: str) -> None:
    path = tmp_path / f"broken{suffix}"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=r"path=.*broken.*(truncated or corrupt)"):
        load_table(path)


@pytest.mark.parametrize("target", ["npy", "table"])
def test_planted_pickles_stay_inert(tmp_path: Path, target: str) -> None:
    marker = tmp_path / "executed"
    # "npy": a real NPY header in front of an object array pickle; "table": a bare pickle.
    path = plant_pickle(tmp_path / "planted", marker, npy=target == "npy")
    with pytest.raises((ValueError, TypeError)):
        load_table(path)
    assert not marker.exists()
