"""The one CSV reader: delimiters, quotes and BOMs read alike; misreadable files refused."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from memae.data import load_table
from memae.data.chunks import read_chunks
from tests.conftest import QUICK


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
