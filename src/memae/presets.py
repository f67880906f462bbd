"""Named presets: configurations as YAML files a user can read, copy and pass by name.

Every preset has the same schema, whatever the data kind::

    kind: tabular            # tabular | images | video
    description: one line saying what it is for
    detector:                # keyword arguments of the estimator for that kind
      model: mlp
      ...
    benchmark:               # optional: protocol settings (BenchmarkSettings)
      max_steps: 2000

A preset belongs to one benchmark protocol (:attr:`Preset.protocol`, what
``memae select`` runs): ``benchmark.protocol`` when the file sets it, else the
preset name's part before the first ``-`` (``cifar10-paper`` runs ``cifar10``).

The packaged presets are the files ``memae/presets/<name>.yaml``
(:func:`list_presets`); :func:`load_preset` takes one of those names or the
path of any preset file. ``detector`` keys are checked against the estimator's
parameters for the kind (:data:`PRESET_PARAMETERS`) and ``benchmark`` keys
against :class:`BenchmarkSettings`, so a typo is an error that names the file,
the key and the valid keys, never a silent default.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from memae.config import DetectorConfig, load_config_file
from memae.validation import check_params
from memae.video.config import VideoConfig

__all__ = [
    "KINDS",
    "PRESET_DIR",
    "PRESET_PARAMETERS",
    "BenchmarkSettings",
    "Preset",
    "list_presets",
    "load_preset",
]

PRESET_DIR = Path(__file__).with_name("presets")
KINDS: tuple[str, ...] = ("tabular", "images", "video")
# kind -> the dataclass whose fields are the estimator parameters a preset's detector
# section may set for that kind.
PRESET_PARAMETERS: dict[str, type] = {
    "tabular": DetectorConfig, "images": DetectorConfig, "video": VideoConfig}
# Kinds whose detector section holds memae.MemAEDetector parameters.
DETECTOR_KINDS: tuple[str, ...] = ("tabular", "images")
SECTIONS: tuple[str, ...] = ("kind", "description", "detector", "benchmark")
REQUIRED: tuple[str, ...] = ("kind", "description", "detector")


@dataclass(frozen=True)
class BenchmarkSettings:
    """How a benchmark protocol trains and evaluates, beside the estimator's parameters.

    Parameters
    ----------
    max_steps:
        Caps ``epochs`` so that ``epochs * batches_per_epoch`` stays near it on large
        inputs (``None``: no cap); with an ensemble it counts each member's steps.
    n_estimators, max_samples:
        Above 1, a :class:`memae.MemAEEnsemble` of ``n_estimators`` detectors, each
        trained on ``max_samples`` rows (an int, or a share in (0, 1]).
    input_transform:
        Tabular benchmarks: ``"none"``, ``"quantile-normal"`` or ``"quantile-uniform"``,
        a scikit-learn ``QuantileTransformer`` fitted on the training rows before the
        detector.
    image_normalization:
        Image benchmarks: ``"none"`` or ``"gcn_l1"``, a per-image transform applied
        before training and scoring (:func:`memae.benchmarks.oneclass.normalize_images`).
    augmentation:
        Image benchmarks: ``"none"``, ``"shift1"`` or ``"hflip"``, fixed copies of the
        normal class's training images (:func:`memae.benchmarks.oneclass.augment_images`;
        ``epochs`` then count passes over the augmented set).
    quick:
        Detector parameters that ``--quick`` (a smoke test, not a result) changes.
    protocol:
        The benchmark whose protocol the preset is for (``kdd99``, ``odds``, ``mnist``,
        ...); ``None``: the preset name's part before the first ``-``
        (:attr:`Preset.protocol`). ``memae benchmark NAME`` refuses a preset that names
        another benchmark here.
    """

    max_steps: int | None = None
    n_estimators: int = 1
    max_samples: int | float = 1.0
    input_transform: str = "none"
    image_normalization: str = "none"
    augmentation: str = "none"
    quick: dict[str, Any] = field(default_factory=dict)
    protocol: str | None = None

    def __post_init__(self) -> None:
        steps = self.max_steps
        if steps is not None and (not _is_int(steps) or steps < 1):
            raise ValueError(f"benchmark.max_steps must be null or an int >= 1, got {steps!r}; "
                             "null trains every epoch.")
        if not _is_int(self.n_estimators) or self.n_estimators < 1:
            raise ValueError(f"benchmark.n_estimators must be an int >= 1, got "
                             f"{self.n_estimators!r}; 1 trains a single detector.")
        for name in ("input_transform", "image_normalization", "augmentation"):
            if not isinstance(getattr(self, name), str):
                raise ValueError(f"benchmark.{name} must be a name, got "
                                 f"{getattr(self, name)!r}; write e.g. {name}: none.")
        if self.protocol is not None and not isinstance(self.protocol, str):
            raise ValueError(f"benchmark.protocol must be a benchmark name, got "
                             f"{self.protocol!r}; write e.g. protocol: kdd99.")
        if not isinstance(self.quick, Mapping):
            raise ValueError(f"benchmark.quick must map detector parameters to values, got "
                             f"{self.quick!r}; write e.g. quick: {{epochs: 2}}.")


@dataclass(frozen=True)
class Preset:
    """One preset: an estimator configuration for a data kind, with benchmark settings.

    ``path`` is the file it was read from (``None`` for a preset built in code).
    Construction checks every key (see the module docstring).
    """

    name: str
    kind: str
    description: str
    detector: dict[str, Any]
    benchmark: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    def __post_init__(self) -> None:
        where = self._where()
        if self.kind not in KINDS:
            raise ValueError(f"{where}: kind must be one of {list(KINDS)}, got {self.kind!r}; "
                             "write kind: tabular, images or video.")
        if not isinstance(self.description, str):
            raise ValueError(f"{where}: description must be one line of text, got "
                             f"{self.description!r}.")
        _check_keys(self.detector, _parameter_names(self.kind), where, "detector",
                    f"parameters of a {self.kind} estimator")
        params = self.detector.get("model_params")
        if params is not None and not isinstance(params, Mapping):
            raise ValueError(f"{where}: detector.model_params must map model fields to "
                             f"values, got {params!r}; write e.g. model_params: {{latent_dim: 4}}.")
        _check_keys(self.benchmark, [f.name for f in dataclasses.fields(BenchmarkSettings)],
                    where, "benchmark", "benchmark settings")
        _check_keys(self.benchmark.get("quick", {}), _parameter_names(self.kind), where,
                    "benchmark.quick", f"parameters of a {self.kind} estimator")
        try:
            check_params({**self.detector, **self.benchmark.get("quick", {})})
            BenchmarkSettings(**self.benchmark)
        except ValueError as error:
            raise ValueError(f"{where}: {error}") from error

    def _where(self) -> str:
        return f"preset file {str(self.path)!r}" if self.path is not None else \
            f"preset {self.name!r}"

    @property
    def source(self) -> str:
        """What :func:`load_preset` takes to load it again: the packaged name, else the path."""
        if self.path is None or self.path.parent == PRESET_DIR:
            return self.name
        return str(self.path)

    @property
    def protocol(self) -> str:
        """The benchmark protocol this preset is for.

        ``benchmark.protocol`` when set, else the name's part before the first ``-``.
        """
        return self.settings.protocol or self.name.partition("-")[0]

    @property
    def settings(self) -> BenchmarkSettings:
        """The ``benchmark`` section, defaults filled in."""
        return BenchmarkSettings(**self.benchmark)

    def with_(self, **changes: Any) -> Preset:
        """A copy with ``changes``: detector parameters and benchmark settings by name.

        A change replaces the whole value (``model_params={...}`` replaces the dict).
        """
        settings = {f.name for f in dataclasses.fields(BenchmarkSettings)}
        detector = {k: v for k, v in changes.items() if k not in settings}
        benchmark = {k: v for k, v in changes.items() if k in settings}
        return dataclasses.replace(self, detector={**self.detector, **detector},
                                   benchmark={**self.benchmark, **benchmark})

    def to_dict(self) -> dict[str, Any]:
        """Name, kind, description and both sections (what a result file records)."""
        return {"name": self.name, "kind": self.kind, "description": self.description,
                "detector": dict(self.detector), "benchmark": dict(self.benchmark)}


def list_presets() -> list[str]:
    """The names of the packaged presets, sorted."""
    return sorted(path.stem for path in PRESET_DIR.glob("*.yaml"))


def load_preset(name_or_path: str | Path) -> Preset:
    """A packaged preset by name, or the preset file at a path.

    A string with a path separator or a ``.yaml`` / ``.yml`` / ``.json`` suffix is a
    path; any other string names a packaged preset. An unknown name lists the known
    ones. Lists in ``detector.model_params`` become tuples, as the model presets
    write them.
    """
    path = _preset_path(name_or_path)
    values = load_config_file(path)
    where = f"preset file {str(path)!r}"
    for key in values:
        if key not in SECTIONS:
            raise ValueError(f"{where}: unknown key {key!r} (value {values[key]!r}); a preset "
                             f"has the keys {list(SECTIONS)}.{_suggest(key, SECTIONS)}")
    missing = [key for key in REQUIRED if key not in values]
    if missing:
        raise ValueError(f"{where}: missing {missing}; a preset needs kind (one of "
                         f"{list(KINDS)}), a one-line description and a detector section.")
    for section in ("detector", "benchmark"):
        if not isinstance(values.get(section, {}), Mapping):
            raise ValueError(f"{where}: {section} must map keys to values, got "
                             f"{values[section]!r}; indent its keys below {section}:.")
    detector = dict(values["detector"])
    if isinstance(detector.get("model_params"), Mapping):
        detector["model_params"] = {k: _tuples(v) for k, v in detector["model_params"].items()}
    return Preset(name=path.stem, kind=values["kind"], description=values["description"],
                  detector=detector, benchmark=dict(values.get("benchmark") or {}),
                  path=path)


def _preset_path(name_or_path: str | Path) -> Path:
    text = str(name_or_path)
    is_path = isinstance(name_or_path, Path) or "/" in text or "\\" in text \
        or Path(text).suffix.lower() in (".yaml", ".yml", ".json")
    if not is_path:
        packaged = PRESET_DIR / f"{text}.yaml"
        if not packaged.is_file():
            raise ValueError(f"unknown preset {text!r}; known presets: "
                             f"{', '.join(list_presets())}; or pass the path of a preset YAML "
                             f"file.{_suggest(text, list_presets())}")
        return packaged
    path = Path(text).expanduser().resolve()
    if not path.is_file():
        raise FileNotFoundError(f"preset file {text!r} does not exist; pass an existing YAML "
                                f"file or a packaged preset name ({', '.join(list_presets())}).")
    return path


def _parameter_names(kind: str) -> list[str]:
    return [f.name for f in dataclasses.fields(PRESET_PARAMETERS[kind])]


def _check_keys(values: Any, valid: list[str], where: str, section: str, what: str) -> None:
    if not isinstance(values, Mapping):
        raise ValueError(f"{where}: {section} must map keys to values, got {values!r}.")
    for key, value in values.items():
        if key not in valid:
            raise ValueError(f"{where}: unknown {section} key {key!r} (value {value!r}); the "
                             f"{what} are {sorted(valid)}.{_suggest(key, valid)}")


def _suggest(key: Any, valid: Any) -> str:
    close = difflib.get_close_matches(str(key), list(valid), n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


def _tuples(value: Any) -> Any:
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
