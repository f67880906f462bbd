"""The README's Python example runs as written and does what it says."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_example(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    code = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)[0]
    namespace: dict = {}
    exec(compile(code, str(README), "exec"), namespace)
    labels, scores = namespace["labels"], namespace["scores"]
    assert labels[-5:].tolist() == [1] * 5          # the shifted samples are flagged
    assert labels[:95].mean() <= 0.05
    np.testing.assert_array_equal(namespace["same"].decision_function(namespace["X_test"]),
                                  scores)
    assert namespace["blame"].shape == (100, 20)
