"""Run configuration: dataclass defaults < a YAML/JSON file < command-line flags.

A :class:`RunConfig` describes one training run: where the data is and how to
read it (:class:`DataConfig`), the detector's parameters
(:class:`DetectorConfig`, the keyword arguments of :class:`memae.MemAEDetector`),
whether to bag several detectors (:class:`EnsembleConfig`) and where the outputs
go (:class:`OutputConfig`). :func:`resolve_config` applies the three layers in
order; a key that no dataclass declares is an error that names the key, so a
typo never silently falls back to a default. The resolved
configuration is written beside the model (``config.yaml`` in the run
directory) and is enough to rerun the training.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from memae.atomic import write_text_atomic
from memae.data.images import check_input_size
from memae.video.config import VideoConfig

__all__ = [
    "DataConfig",
    "DetectorConfig",
    "EnsembleConfig",
    "OutputConfig",
    "RunConfig",
    "load_config_file",
    "parse_assignment",
    "read_config_file",
    "resolve_config",
]

DATA_FORMATS = ("auto", "table", "images")
# What a run trains: "auto" reads a file as a table and a folder as images; video is
# asked for by name, since a folder of frame folders also looks like an image folder.
KINDS = ("auto", "tabular", "images", "video")
COLORS = ("gray", "rgb")
FIT_ON = ("normal", "all")

# YAML 1.1 (PyYAML) reads 1e-3 as a string: floats need a dot there. This is YAML
# 1.2's float rule (1e-3, 5E4, .5, -inf, .nan), which is what a user means.
_FLOAT = re.compile(r"""^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?
                        |[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$""", re.X)


class _ConfigLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` with YAML 1.2 floats that refuses duplicate keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (the later value would silently "
                    "win); keep one", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_ConfigLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:float"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_ConfigLoader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT,
                                    list("-+0123456789."))


def _yaml(text: str) -> Any:
    return yaml.load(text, Loader=_ConfigLoader)  # noqa: S506 (a SafeLoader subclass)


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r} (the later value would silently win); "
                             "keep one")
        out[key] = value
    return out


@dataclass
class DataConfig:
    """What to train on and how to read it.

    ``format="auto"`` reads a folder as images and a file as a table (CSV,
    Parquet, NPY or NPZ). ``normal_labels`` turns labels into 0 (normal) / 1
    (anomaly): a table's label value or an image's class folder that is listed
    is normal, anything else anomalous. Without it, a table's labels must
    already be 0/1 and image folders carry no labels.

    ``fit_on`` says which rows train the detector when the data has labels:
    ``"normal"`` (the default, the paper's protocol: MemAE learns to
    reconstruct normal data only) or ``"all"`` (every row, anomalies included,
    for data whose labels are only for evaluation). Unlabelled data always
    trains on every row.
    """

    path: str | None = None
    format: str = "auto"
    label_col: str | None = None
    ignore_cols: list[str] = field(default_factory=list)
    categorical_cols: list[str] = field(default_factory=list)
    image_size: list[int] | None = None
    color: str = "gray"
    classes: list[str] = field(default_factory=list)
    normal_labels: list[str] = field(default_factory=list)
    fit_on: str = "normal"


@dataclass
class DetectorConfig:
    """Keyword arguments of :class:`memae.MemAEDetector` (see its docstring).

    The defaults are the detector's (``"auto"``: the general preset's value for the
    data's kind), except ``random_state=0`` so that a run is reproducible unless asked
    otherwise. ``verbose`` is not here: the
    command line's ``--quiet`` decides it.
    """

    model: str = "auto"
    model_params: dict[str, Any] | str | None = "auto"
    memory: bool = True
    memory_size: int | None = None
    shrink_threshold: float | None = None
    entropy_weight: float = 0.0002
    epochs: int | str = "auto"
    batch_size: int = 64
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    lr_schedule: str = "constant"
    max_steps: int | str | None = "auto"
    precision: str = "fp32"
    pseudo_anomaly: float = 0.0
    pseudo_anomaly_kind: str = "patch"
    validation_fraction: float | str = "auto"
    patience: int | str | None = "auto"
    standardize: bool | str = "auto"
    contamination: float = 0.1
    target_fpr: float | None = None
    random_state: int | None = 0
    device: str = "auto"
    score_batch_size: int = 1024


def _video_detector_fields() -> list[tuple[str, Any, Any]]:
    """VideoConfig's fields and the video detector's run settings, for one dataclass."""
    out: list[tuple[str, Any, Any]] = []
    for f in dataclasses.fields(VideoConfig):
        default = (field(default_factory=f.default_factory)
                   if f.default_factory is not dataclasses.MISSING else field(default=f.default))
        out.append((f.name, f.type, default))
    return out + [("device", "str", field(default="auto")),
                  ("score_batch_size", "int", field(default=16))]


VideoDetectorConfig = dataclasses.make_dataclass(
    "VideoDetectorConfig", _video_detector_fields(),
    namespace={"__doc__": "The detector section of a video run: the fields of "
                          ":class:`memae.video.VideoConfig` plus ``device`` and "
                          "``score_batch_size``."})


@dataclass
class EnsembleConfig:
    """Bagging: with ``n_estimators`` above 1, ``memae train`` fits a :class:`memae.MemAEEnsemble`.

    Each of the ``n_estimators`` members is a detector as :class:`DetectorConfig`
    describes, trained on ``max_samples`` rows drawn without replacement (an
    int, or a share of the rows in (0, 1]; ``None``: 256 rows); the detector
    section's ``contamination``, ``target_fpr`` and ``random_state`` apply to the
    ensemble. ``n_estimators: 1`` (the default) trains one detector, and then
    ``max_samples`` must stay unset rather than be silently ignored.
    """

    n_estimators: int = 1
    max_samples: int | float | None = None


@dataclass
class OutputConfig:
    """Where a run's files go.

    ``run_dir`` is the run directory itself; ``scores`` and ``report`` are
    names *inside* it (``memae score`` and ``memae report`` write there by
    default) and may not point outside it (see :class:`memae.run_dir.RunDir`).
    """

    run_dir: str | None = None
    scores: str = "scores.csv"
    report: str = "report"


@dataclass
class RunConfig:
    """Everything ``memae train`` needs; saved as ``config.yaml`` in the run directory.

    ``kind`` says what the run trains (:data:`KINDS`); with ``"video"`` the
    ``detector`` section is a :class:`VideoDetectorConfig`. ``preset`` names the
    preset (:mod:`memae.presets`) whose ``detector`` section ``memae train`` lays
    under the configuration file (``--preset``); the saved ``config.yaml``
    records it beside the resolved values.
    """

    kind: str = "auto"
    preset: str | None = None
    data: DataConfig = field(default_factory=DataConfig)
    detector: Any = field(default_factory=DetectorConfig)
    ensemble: EnsembleConfig = field(default_factory=EnsembleConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    threads: int = 1

    @property
    def video(self) -> bool:
        """Whether this run trains a video model (``detector`` is a VideoDetectorConfig)."""
        return self.kind == "video"

    def to_dict(self) -> dict[str, Any]:
        """Plain dicts, lists and scalars (YAML- and JSON-ready)."""
        return json.loads(json.dumps(asdict(self)))

    def save(self, path: str | Path) -> Path:
        """Write the configuration as YAML (atomically)."""
        return write_text_atomic(path, yaml.safe_dump(self.to_dict(), sort_keys=False),
                                 "config file")

    def validate(self) -> RunConfig:
        """Check the fields the detector does not check itself; returns ``self``."""
        data = self.data
        if self.kind not in KINDS:
            raise ValueError(f"kind (--kind) must be one of {KINDS}, got {self.kind!r}.")
        if self.video:
            given = [f"data.{name}" for name in ("label_col", "image_size", "normal_labels")
                     if getattr(data, name)] + (["ensemble"] * (self.ensemble.n_estimators > 1))
            if data.format != "auto" or given:
                raise ValueError(f"kind video reads clips from data.path alone; drop "
                                 f"{given or ['data.format']} (the frame size is "
                                 "detector.size).")
        if data.format not in DATA_FORMATS:
            raise ValueError(f"data.format must be one of {DATA_FORMATS}, got {data.format!r}.")
        if data.fit_on not in FIT_ON:
            raise ValueError(f"data.fit_on (--fit-on) must be one of {FIT_ON}, got "
                             f"{data.fit_on!r}.")
        if data.color not in COLORS:
            raise ValueError(f"data.color must be one of {COLORS}, got {data.color!r}.")
        size = data.image_size
        if size is not None and (
            not isinstance(size, list) or len(size) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in size)
        ):
            raise ValueError(
                f"data.image_size must be [height, width] with two positive ints, got {size!r}."
            )
        if size is not None:
            check_input_size(size, "data.image_size (--image-size)")
        for name in ("ignore_cols", "categorical_cols", "classes", "normal_labels"):
            value = getattr(data, name)
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"data.{name} must be a list of strings, got {value!r}; "
                                 f"write e.g. {name}: [\"a\", \"b\"].")
        count = self.ensemble.n_estimators
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise ValueError(f"ensemble.n_estimators must be an int >= 1, got {count!r}; "
                             "1 trains a single detector.")
        if count == 1 and self.ensemble.max_samples is not None:
            raise ValueError("ensemble.max_samples (--max-samples) only applies to an ensemble; "
                             "set ensemble.n_estimators (--n-estimators) above 1, or drop it.")
        if self.preset is not None and not isinstance(self.preset, str):
            raise ValueError(f"preset must be a preset name or file path, got {self.preset!r}; "
                             "`memae presets` lists the names.")
        if not isinstance(self.threads, int) or isinstance(self.threads, bool) or self.threads < 1:
            raise ValueError(f"threads must be an int >= 1, got {self.threads!r}.")
        return self


def _build(cls: type, values: Mapping[str, Any], prefix: str,
           sections: Mapping[str, type] | None = None) -> Any:
    """Instantiate dataclass ``cls`` from ``values``, recursing into nested dataclasses.

    ``sections`` names the dataclass of a section where it is not the field's default.
    """
    if not isinstance(values, Mapping):
        where = prefix.rstrip(".") or "the configuration"
        raise ValueError(f"{where} must be a mapping of keys to values, got {values!r}.")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ValueError(
            f"unknown configuration key {prefix + str(unknown[0])!r}; valid keys"
            f"{' in ' + repr(prefix.rstrip('.')) if prefix else ''}: {sorted(fields)}."
        )
    kwargs = {}
    for name, value in values.items():
        nested = (sections or {}).get(name, fields[name].default_factory)
        if dataclasses.is_dataclass(nested):
            value = _build(nested, value, f"{prefix}{name}.")
        kwargs[name] = value
    return cls(**kwargs)


def _merge(base: dict[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """``update`` over ``base``; nested mappings merge key by key, anything else replaces."""
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Read a YAML (``.yaml``/``.yml``) or JSON (``.json``) configuration file.

    Returns the raw mapping; :func:`resolve_config` checks its keys.
    """
    values = read_config_file(path)
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise ValueError(f"config file {str(path)!r} must hold a mapping at the top level, "
                         f"got {type(values).__name__}.")
    return values


def read_config_file(path: str | Path, what: str = "config file", flag: str = "--config"
                     ) -> Any:
    """The value a YAML or JSON file holds, whatever it is (``None`` for an empty file).

    ``what`` and ``flag`` name the file and the option that gave it, in messages.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} {str(path)!r} does not exist; check {flag}.")
    suffix = path.suffix.lower()
    if suffix not in (".json", ".yaml", ".yml"):
        raise ValueError(f"{what} {str(path)!r} must end in .yaml, .yml or .json, "
                         f"got {suffix!r}.")
    try:
        text = path.read_text(encoding="utf-8-sig")  # a leading BOM is dropped
    except UnicodeDecodeError as error:
        raise ValueError(f"{what} {str(path)!r} is not UTF-8 text (byte "
                         f"{error.start}: {error.reason}); save it as UTF-8.") from error
    try:
        values = (json.loads(text, object_pairs_hook=_unique_pairs) if suffix == ".json"
                  else _yaml(text))
    except (ValueError, yaml.YAMLError) as error:
        detail = " ".join(str(error).split())
        raise ValueError(f"{what} {str(path)!r} is not valid {suffix[1:].upper()}: "
                         f"{detail}") from error
    return values


def parse_assignment(text: str) -> dict[str, Any]:
    """``"detector.epochs=5"`` -> ``{"detector": {"epochs": 5}}`` (the value parsed as YAML)."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ValueError(f"--set expects KEY=VALUE such as detector.epochs=5, got {text!r}.")
    try:
        value = _yaml(raw) if raw.strip() else None
    except yaml.YAMLError as error:
        detail = " ".join(str(error).split())
        raise ValueError(f"--set {text!r}: the value is not valid YAML ({detail}); quote "
                         "text, e.g. --set 'data.label_col=\"class\"'.") from error
    nested: dict[str, Any] = {}
    cursor = nested
    *parents, last = key.strip().split(".")
    for part in parents:
        cursor = cursor.setdefault(part, {})
    cursor[last] = value
    return nested


def resolve_config(file_values: Mapping[str, Any] | None = None,
                   overrides: Sequence[Mapping[str, Any]] = ()) -> RunConfig:
    """Defaults, then ``file_values``, then each of ``overrides`` in order.

    Parameters
    ----------
    file_values:
        The mapping read by :func:`load_config_file` (or ``None``).
    overrides:
        Nested mappings from command-line flags; later ones win.

    Returns
    -------
    RunConfig
        Validated. Raises ``ValueError`` naming the first unknown key.
    """
    layers = [file_values or {}, *overrides]
    kinds = [layer["kind"] for layer in layers if isinstance(layer, Mapping) and "kind" in layer]
    video = bool(kinds) and kinds[-1] == "video"
    sections = {"detector": VideoDetectorConfig} if video else None
    values = RunConfig(detector=VideoDetectorConfig() if video else DetectorConfig()).to_dict()
    for layer in layers:
        _build(RunConfig, layer, "", sections)  # names an unknown key before anything merges
        values = _merge(values, layer)
    config = _build(RunConfig, values, "", sections).validate()
    if video:
        settings = {k: v for k, v in asdict(config.detector).items()
                    if k not in ("device", "score_batch_size")}
        VideoConfig.from_dict(settings)  # the video settings' own checks, before any work
    return config
