from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from memae.data import KDD_FEATURES, load_kddcup99

ROWS = [
    "0,tcp,http,SF,181,5450,0,0,0,0,0,1,0,0,0,0,0,0,0,0,0,0,8,8,0,0,0,0,1,0,0,9,9,1,0,0.11,0,0,0,0,0,normal.",
    "0,icmp,ecr_i,SF,1032,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,511,511,0,0,0,0,1,0,0,255,255,1,0,1,0,0,0,0,0,smurf.",
    "2,tcp,smtp,REJ,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1,1,0,0,1,1,1,0,0,1,1,1,0,0,0,0,0,1,1,neptune.",
]  # fmt: skip


def write_csv(path: Path, rows: list[str], compress: bool) -> Path:
    text = "\n".join(rows) + "\n"
    path.write_bytes(gzip.compress(text.encode()) if compress else text.encode())
    return path


@pytest.mark.parametrize("compress", [False, True])
def test_csv_is_one_hot_encoded(tmp_path: Path, compress: bool) -> None:
    X, y, names = load_kddcup99(write_csv(tmp_path / "kdd.data", ROWS, compress))
    assert X.dtype == np.float32 and y.dtype == np.int8
    # 2 protocols + 3 services + 2 flags seen, then the 38 numeric features.
    assert X.shape == (3, 2 + 3 + 2 + 38)
    assert names[:7] == [
        "protocol_type=icmp", "protocol_type=tcp", "service=ecr_i", "service=http",
        "service=smtp", "flag=REJ", "flag=SF",
    ]  # fmt: skip
    assert names[7:] == [n for n in KDD_FEATURES if n not in ("protocol_type", "service", "flag")]
    np.testing.assert_array_equal(X[:, :7], [[0, 1, 0, 1, 0, 0, 1], [1, 0, 1, 0, 0, 0, 1],
                                             [0, 1, 0, 0, 1, 1, 0]])  # fmt: skip
    assert X[0, names.index("src_bytes")] == 181
    assert X[2, names.index("duration")] == 2
    assert y.tolist() == [1, 0, 0]  # DAGMM protocol: normal. traffic is the anomaly class


def test_csv_with_wrong_column_count(tmp_path: Path) -> None:
    rows = [ROWS[0], ROWS[1].rsplit(",", 1)[0]]
    with pytest.raises(ValueError, match="line 2 has 41 columns; a KDD Cup 99 CSV has 42"):
        load_kddcup99(write_csv(tmp_path / "kdd.csv", rows, compress=False))


def test_csv_with_text_in_numeric_column(tmp_path: Path) -> None:
    rows = [ROWS[0].replace("181", "lots", 1)]
    with pytest.raises(ValueError, match="non-numeric value"):
        load_kddcup99(write_csv(tmp_path / "kdd.csv", rows, compress=False))


def test_npz_validation(tmp_path: Path) -> None:
    np.savez(tmp_path / "wrong_key.npz", data=np.zeros((2, 119)))
    with pytest.raises(ValueError, match="stores one array under 'kdd'"):
        load_kddcup99(tmp_path / "wrong_key.npz")
    np.savez(tmp_path / "wrong_shape.npz", kdd=np.zeros((2, 50)))
    with pytest.raises(ValueError, match=r"shape \(2, 50\); expected \(n, 119\)"):
        load_kddcup99(tmp_path / "wrong_shape.npz")
    bad_label = np.zeros((2, 119))
    bad_label[0, -1] = 3
    np.savez(tmp_path / "bad_label.npz", kdd=bad_label)
    with pytest.raises(ValueError, match="last column must be 0/1"):
        load_kddcup99(tmp_path / "bad_label.npz")
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        load_kddcup99(tmp_path / "missing.npz")


@pytest.mark.slow
@pytest.mark.real_data
def test_real_csv_and_npz_agree(shared_data: Path) -> None:
    X, y, names = load_kddcup99(shared_data / "kddcup99" / "kddcup.data_10_percent.gz")
    Z, y_npz, names_npz = load_kddcup99(shared_data / "kddcup99" / "kdd_cup.npz")
    assert X.shape == Z.shape == (494_021, 118)
    assert names == names_npz
    np.testing.assert_array_equal(y, y_npz)
    assert int(y.sum()) == 97_278  # the normal. rows, 19.69%
    # Same rows, same layout: one-hot blocks are identical and every numeric column of
    # the npz is an affine rescaling of the raw column.
    np.testing.assert_array_equal(X[:, :80], Z[:, :80])
    raw, scaled = X[:, 80:].astype(np.float64), Z[:, 80:].astype(np.float64)
    lo, hi = raw.argmin(axis=0), raw.argmax(axis=0)
    cols = np.arange(raw.shape[1])
    span = raw[hi, cols] - raw[lo, cols]
    slope = np.divide(
        scaled[hi, cols] - scaled[lo, cols], span, where=span > 0, out=np.zeros_like(span)
    )
    predicted = scaled[lo, cols] + slope * (raw - raw[lo, cols])
    residual = np.abs(predicted - scaled).max(axis=0)
    tolerance = 1e-5 * np.maximum(1.0, np.abs(scaled).max(axis=0))
    assert (residual < tolerance).all(), names[80 + int(np.argmax(residual / tolerance))]
