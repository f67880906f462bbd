"""The run directory: names inside it only, and a run claimed whole or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memae.run_dir import RunDir, claim_run


@pytest.mark.parametrize("name", ["../outside", "/tmp/abs", "report/../../x", ""])
def test_run_dir_refuses_names_that_leave_it(tmp_path: Path, name: str) -> None:
    run = RunDir(tmp_path / "run")
    with pytest.raises(ValueError, match="output.report"):
        run.inside(name, "output.report")


def test_run_dir_accepts_names_inside(tmp_path: Path) -> None:
    run = RunDir(tmp_path / "run")
    assert run.inside("report/sub", "output.report") == (tmp_path / "run/report/sub").resolve()
    assert run.inside("a/../scores.csv", "output.scores") == (tmp_path / "run/scores.csv").resolve()


@settings(max_examples=50, deadline=None)
@given(name=st.one_of(
    st.lists(st.sampled_from(["..", ".", "a", "b"]), min_size=1, max_size=5).map("/".join),
    st.text(alphabet="./ab", min_size=1, max_size=8).map(lambda t: "/" + t)))
def test_run_dir_names_never_leave_the_run(tmp_path_factory, name: str) -> None:
    root = tmp_path_factory.getbasetemp() / "runs" / "r"
    try:
        target = RunDir(root).inside(name, "output.report")
    except ValueError as error:
        assert "output.report" in str(error)
        return
    assert target == root.resolve() or root.resolve() in target.parents


def test_claim_run_refuses_to_overwrite_a_model(tmp_path: Path) -> None:
    with claim_run(tmp_path / "run") as run:
        run.model.write_bytes(b"x")
    with pytest.raises(ValueError, match="--overwrite"), claim_run(tmp_path / "run"):
        pass
    with claim_run(tmp_path / "run", overwrite=True) as again:
        assert again.root == run.root


def test_claim_run_removes_a_new_run_that_fails(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), claim_run(tmp_path / "a" / "run") as run:
        run.config.write_text("detector: {}")
        raise RuntimeError("training failed")
    assert not (tmp_path / "a").exists()  # the parent it made goes too
    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "notes.txt").write_text("mine")
    with pytest.raises(RuntimeError), claim_run(kept) as run:
        run.config.write_text("detector: {}")
        run.checkpoints.mkdir()
        raise RuntimeError("training failed")
    assert [p.name for p in kept.iterdir()] == ["notes.txt"]
