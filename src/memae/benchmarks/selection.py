"""Selections: grid points of preset changes, each scored by a benchmark's validation protocol.

A grid file (YAML) maps preset fields to lists of values; its points are the
cartesian product, in file order::

    memory_size: [500, 2000]                 # a detector parameter
    model_params.temperature: [0.02, 0.05]   # one key of detector.model_params
    input_transform: [none, quantile-uniform]  # a benchmark setting

A list of such mappings is the union of their products, in order (as
scikit-learn's ``ParameterGrid`` takes a list of dicts), so that a file can also
list candidates that change different fields. A field is a detector parameter
of the preset's kind, a benchmark setting (:class:`memae.presets.BenchmarkSettings`;
``max_steps`` is the benchmark's, as in :meth:`memae.presets.Preset.with_`),
``detector.<name>``, which sets that detector parameter even where a benchmark setting
has the same name (``detector.max_steps``: the estimator's own step cap), or
``model_params.<key>``, which sets one key of the point's ``model_params``.
Each point is the preset with its changes (:meth:`~memae.presets.Preset.with_`),
so the preset's own checks apply to it.

The preset's protocol (:attr:`memae.presets.Preset.protocol`, or the ``protocol``
given to :func:`run_selection`, which lets a preset with no benchmark of its own, such
as the ``tabular`` defaults, be scored on several benchmarks) runs every point
through that benchmark's own ``--config validation`` run, training MemAE only,
and reads its validation metrics (:attr:`memae.benchmarks.base.BenchmarkSpec.validation_metrics`);
the test split is never read. The preset itself is the baseline row. Points that
train exactly the same configuration are run once.
"""

from __future__ import annotations

import dataclasses
import difflib
import itertools
import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from memae.atomic import write_text_atomic
from memae.benchmarks.base import (
    BenchmarkOptions,
    BenchmarkSpec,
    get_benchmark,
    list_benchmarks,
    machine_description,
    markdown_table,
    seeds_label,
)
from memae.config import read_config_file
from memae.detector import MemAEDetector
from memae.models import model_config
from memae.presets import PRESET_PARAMETERS, BenchmarkSettings, Preset

__all__ = ["VARIANT", "Grid", "Selection", "SelectionRow", "check_split", "grid_fields",
           "load_grid", "parse_grid", "point_preset", "run_selection", "selection_spec",
           "write_selection"]

logger = logging.getLogger(__name__)

# The variant a selection trains: the preset's detector as written.
VARIANT = "MemAE"
NESTED = "model_params"
DETECTOR = "detector"
# Fields a grid may not change: every point runs the preset's protocol, --quick is the
# command's flag, and the benchmark sets random_state and device from --seeds and --device.
FIXED_FIELDS = ("protocol", "quick", "random_state", "device")


def check_split(on: str) -> None:
    """Refuse any split but ``validation``: a selection never reads test labels."""
    if on != "validation":
        raise ValueError(f"--on must be validation, got {on!r}; a selection never looks at "
                         "test labels: it compares grid points on validation splits carved "
                         "from the training data. Evaluate the chosen preset on the test "
                         "split with `memae benchmark NAME --config PRESET`.")


def grid_fields(kind: str) -> list[str]:
    """The fields a grid may change for a preset of ``kind`` (``model_params.<key>`` aside)."""
    names = {f.name for f in dataclasses.fields(PRESET_PARAMETERS[kind])}
    names |= {f.name for f in dataclasses.fields(BenchmarkSettings)}
    return sorted(names - set(FIXED_FIELDS))


@dataclass(frozen=True)
class Grid:
    """Grid entries, each mapping fields to their candidate values; points in file order."""

    entries: tuple[dict[str, tuple[Any, ...]], ...]
    path: Path | None = None

    @property
    def name(self) -> str:
        """The grid file's stem (``grid`` for a grid built in code)."""
        return self.path.stem if self.path is not None else "grid"

    @property
    def fields(self) -> list[str]:
        """Every field some entry changes, in first-seen order."""
        return list(dict.fromkeys(f for entry in self.entries for f in entry))

    def points(self) -> list[dict[str, Any]]:
        """The cartesian product of each entry's values, entries one after another."""
        return [dict(zip(entry, values, strict=True))
                for entry in self.entries for values in itertools.product(*entry.values())]


def parse_grid(values: Any, where: str = "grid") -> Grid:
    """A :class:`Grid` from a mapping (or list of mappings) of fields to value lists.

    Checks the shape only: names are checked against a preset by :func:`point_preset`.
    """
    entries = values if isinstance(values, list) else [values]
    if not entries or values is None:
        raise ValueError(f"{where}: the grid is empty; map preset fields to lists of values, "
                         "e.g. memory_size: [500, 2000].")
    parsed = []
    for index, entry in enumerate(entries):
        at = where if len(entries) == 1 else f"{where}, entry {index + 1}"
        if not isinstance(entry, Mapping) or not entry:
            raise ValueError(f"{at}: must map preset fields to lists of values, got "
                             f"{entry!r}; write e.g. memory_size: [500, 2000].")
        for name, candidates in entry.items():
            if not isinstance(name, str):
                raise ValueError(f"{at}: field names must be text, got {name!r}.")
            if not isinstance(candidates, list) or not candidates:
                raise ValueError(f"{at}: {name} must be a non-empty list of values, got "
                                 f"{candidates!r}; write e.g. {name}: [{candidates!r}].")
        parsed.append({name: tuple(_values(name, c) for c in candidates)
                       for name, candidates in entry.items()})
    return Grid(tuple(parsed))


def load_grid(path: str | Path) -> Grid:
    """The grid file at ``path`` (YAML or JSON)."""
    path = Path(path)
    grid = parse_grid(read_config_file(path, "grid file", "--grid"), f"grid file {str(path)!r}")
    return dataclasses.replace(grid, path=path)


def point_preset(preset: Preset, point: Mapping[str, Any], where: str = "grid") -> Preset:
    """``preset`` with one grid point's changes, checked as a preset and as a model.

    ``model_params.<key>`` sets that key of the point's ``model_params`` (the point's own
    ``model_params`` if it sets one, else the preset's).
    """
    valid = grid_fields(preset.kind)
    parameters = _detector_parameters(preset.kind)
    flat: dict[str, Any] = {}
    nested: dict[str, Any] = {}
    direct: dict[str, Any] = {}
    for name, value in point.items():
        head, dot, key = name.partition(".")
        if dot and head == NESTED and key and "." not in key:
            nested[key] = value
        elif dot and head == DETECTOR and key in parameters:
            direct[key] = value
        elif not dot and name in valid:
            flat[name] = value
        else:
            close = difflib.get_close_matches(name, valid, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"{where}: unknown field {name!r}; a grid over a {preset.kind} "
                             f"preset changes {valid}, {DETECTOR}.<name> (a detector "
                             f"parameter) or {NESTED}.<key> (a key of the model's "
                             f"parameters).{hint}")
    if nested:
        flat[NESTED] = {**(flat.get(NESTED, preset.detector.get(NESTED)) or {}), **nested}
    try:
        changed = preset.with_(**flat)
        changed = dataclasses.replace(changed, detector={**changed.detector, **direct})
        model = changed.detector.get("model", "auto")
        if model != "auto" and changed.kind in ("tabular", "images"):
            model_config(model, **(changed.detector.get(NESTED) or {}))
    except (ValueError, TypeError) as error:
        raise ValueError(f"{where}, point {dict(point)}: {error}") from error
    return changed


def selection_spec(preset: Preset) -> BenchmarkSpec:
    """The benchmark whose validation protocol scores ``preset``'s grid points."""
    protocol = preset.protocol
    with_validation = [n for n in list_benchmarks()
                       if get_benchmark(n).validation_metrics is not None]
    if protocol not in list_benchmarks():
        whence = ("its benchmark.protocol" if preset.settings.protocol is not None
                  else "its name before the first '-'")
        raise ValueError(f"preset {preset.source!r} is for protocol {protocol!r} ({whence}), "
                         f"which is no benchmark; pass --protocol with one of "
                         f"{with_validation} (or set benchmark.protocol in the preset file).")
    spec = get_benchmark(protocol)
    if spec.validation_metrics is None:
        raise ValueError(f"benchmark {protocol} has no validation protocol: its only "
                         "labelled anomalies are in the test split, so a selection on it "
                         "would choose on test labels. Selections run on "
                         f"{with_validation}; evaluate a {protocol} preset with "
                         f"`memae benchmark {protocol}`.")
    return spec


@dataclass
class SelectionRow:
    """One row of a selection: a grid point (``point`` 1, 2, ...) or the preset (0).

    ``values`` holds every grid field's value in this configuration (a model parameter
    the configuration leaves to the model's default is absent); ``same_as`` the point of
    an earlier row that trains the same configuration (its numbers are reused).
    """

    point: int
    changes: dict[str, Any]
    values: dict[str, Any]
    metrics: dict[str, float]
    seconds: float
    same_as: int | None = None
    result: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """The point's row label: ``preset``, its number, and what it repeats."""
        name = "preset" if self.point == 0 else str(self.point)
        if self.same_as is None:
            return name
        return f"{name} (= {'preset' if self.same_as == 0 else self.same_as})"


@dataclass
class Selection:
    """A selection's rows (the preset first) and what they were run with."""

    preset: Preset
    protocol: str
    grid: Grid
    rows: list[SelectionRow]
    seeds: tuple[int, ...]
    quick: bool
    seconds: float

    @property
    def metric_names(self) -> list[str]:
        """The validation metrics every row reports, in the protocol's order."""
        return list(self.rows[0].metrics)

    @property
    def stem(self) -> str:
        """``select_<preset>[_<protocol>]_<grid>_<seeds>[_quick]``, the selection's file name.

        The protocol is named where it is not the one the preset's name implies.
        """
        protocol = ("" if self.protocol == self.preset.name.partition("-")[0]
                    else f"_{self.protocol}")
        return (f"select_{self.preset.name}{protocol}_{self.grid.name}_"
                f"{seeds_label(self.seeds)}" + ("_quick" if self.quick else ""))

    def markdown(self) -> str:
        """The table the command prints, with its note on how it was run."""
        fields = self.grid.fields
        header = ["point", *fields, *self.metric_names]
        table = [[row.label, *(_cell(row.values, f) for f in fields),
                  *(row.metrics[m] for m in self.metric_names)] for row in self.rows]
        quick = " --quick" if self.quick else ""
        note = (f"Validation runs of `memae benchmark {self.protocol} --config "
                f"{self.preset.source},validation{quick}` ({VARIANT} only), the preset's "
                f"fields changed as each row shows; means over seeds {list(self.seeds)}. "
                f"The test split is not read. Grid: "
                f"{self.grid.path if self.grid.path is not None else 'built in code'}.")
        return markdown_table(header, table) + f"\n\n{note}"

    def to_dict(self) -> dict[str, Any]:
        """Everything the JSON file records: preset, grid, seeds and each point's rows."""
        return {"preset": self.preset.to_dict(), "protocol": self.protocol, "on": "validation",
                "variant": VARIANT, "grid": None if self.grid.path is None
                else str(self.grid.path), "grid_entries": [
                    {k: list(v) for k, v in e.items()} for e in self.grid.entries],
                "seeds": list(self.seeds), "quick": self.quick, "seconds": self.seconds,
                "metrics": self.metric_names, "rows": [dataclasses.asdict(r) for r in self.rows],
                "machine": machine_description()}


def run_selection(preset: Preset, grid: Grid, *, on: str = "validation",
                  seeds: Sequence[int] | None = None, data_dir: Path | None = None,
                  quick: bool = False, device: str = "cpu", jobs: int = 1, threads: int = 1,
                  out_dir: Path = Path("runs"), progress: bool = False,
                  protocol: str | None = None) -> Selection:
    """Score the preset and every grid point on the preset's validation protocol.

    ``protocol`` names the benchmark instead (the preset's ``benchmark.protocol`` set to
    it), e.g. to score the ``tabular`` defaults on ``odds`` and on ``kdd99``.
    ``seeds=None`` takes the benchmark's default seeds; ``quick`` its ``--quick`` data,
    with the preset's ``benchmark.quick`` changes applied before each point's own (so a
    grid value wins). ``jobs`` and ``threads`` are the benchmark's (its units spread
    over worker processes). Every point is checked before anything trains.
    """
    check_split(on)
    if protocol is not None:
        preset = preset.with_(protocol=protocol)
    spec = selection_spec(preset)
    assert spec.validation_metrics is not None
    base = preset.with_(**preset.settings.quick, quick={}) if quick else preset
    where = f"grid file {str(grid.path)!r}" if grid.path is not None else "grid"
    points: list[tuple[dict[str, Any], Preset]] = [({}, base)]
    points += [(p, point_preset(base, p, where)) for p in grid.points()]
    if spec.sample_shape is not None:
        for changes, configuration in points:
            _check_builds(configuration, spec.sample_shape, f"{where}, point {changes}")
    started = time.perf_counter()
    rows: list[SelectionRow] = []
    seen: dict[str, int] = {}
    used_seeds: tuple[int, ...] = ()
    for index, (changes, configuration) in enumerate(
            tqdm(points, desc="selection", unit="point", disable=not progress)):
        values = {f: v for f in grid.fields if (v := _value(configuration, f)) is not _UNSET}
        key = json.dumps([configuration.detector, configuration.benchmark], sort_keys=True,
                         default=str)
        if key in seen:
            first = rows[seen[key]]
            rows.append(SelectionRow(index, changes, values, first.metrics, 0.0, first.point,
                                     first.result))
            continue
        began = time.perf_counter()
        result = spec.run(BenchmarkOptions(
            out_dir=out_dir, data_dir=data_dir, quick=quick,
            seeds=None if seeds is None else tuple(seeds), config="validation",
            device=device, threads=threads, jobs=jobs, preset=configuration,
            variants=(VARIANT,)))
        used_seeds = result.seeds
        metrics = spec.validation_metrics(result)
        logger.info("selection point %d %s: %s", index, changes, metrics)
        seen[key] = len(rows)
        rows.append(SelectionRow(index, changes, values, metrics, time.perf_counter() - began,
                                 result={"rows": result.rows, "summary": result.summary}))
    return Selection(preset, spec.name, grid, rows, used_seeds, quick,
                     time.perf_counter() - started)


def write_selection(selection: Selection, out_dir: Path) -> tuple[Path, Path]:
    """Write ``<out_dir>/<stem>.json`` and ``.md`` (:attr:`Selection.stem`); return both."""
    json_path = out_dir / f"{selection.stem}.json"
    md_path = out_dir / f"{selection.stem}.md"
    write_text_atomic(json_path, json.dumps(selection.to_dict(), indent=2, default=str),
                      "selection file")
    write_text_atomic(md_path, f"# {selection.stem}\n\n{selection.markdown()}\n\n"
                               f"Wall time: {selection.seconds:.1f} s\n", "selection file")
    return json_path, md_path


def _detector_parameters(kind: str) -> set[str]:
    return {f.name for f in dataclasses.fields(PRESET_PARAMETERS[kind])} - set(FIXED_FIELDS)


def _check_builds(preset: Preset, shape: tuple[int, ...], where: str) -> None:
    """Raise the error training would, for a model of ``preset`` on samples of ``shape``."""
    try:
        MemAEDetector(**preset.detector).check_fit(np.zeros((2, *shape), dtype=np.float32))
    except (ValueError, TypeError) as error:
        raise ValueError(f"{where}: {error}") from error


def _values(name: str, value: Any) -> Any:
    """A grid value as a preset holds it (lists in model parameters become tuples)."""
    if name.startswith(f"{NESTED}."):
        return _tuples(value)
    if name == NESTED and isinstance(value, Mapping):
        return {k: _tuples(v) for k, v in value.items()}
    return value


def _tuples(value: Any) -> Any:
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


_UNSET = object()


def _value(preset: Preset, name: str) -> Any:
    """A grid field's value in ``preset``.

    ``_UNSET`` where the preset leaves it to a default (a model parameter it does
    not set).
    """
    head, dot, key = name.partition(".")
    if dot and head == DETECTOR:
        return preset.detector.get(key, getattr(PRESET_PARAMETERS[preset.kind](), key))
    if dot:
        return (preset.detector.get(NESTED) or {}).get(key, _UNSET)
    if name in {f.name for f in dataclasses.fields(BenchmarkSettings)}:
        return getattr(preset.settings, name)
    return preset.detector.get(name, getattr(PRESET_PARAMETERS[preset.kind](), name))


def _cell(values: Mapping[str, Any], name: str) -> str:
    if name not in values:
        return "(model's)"
    value = values[name]
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str).replace('"', "")
