"""Read training data and, later, scoring data the same way.

:func:`fit_inputs` loads a table or an image folder for training and returns
an :class:`InputSpec`: everything needed to read new data identically (the
fitted one-hot encoder's state, the columns to drop, the image size and
colour). The spec is plain JSON (``input.json`` beside the model), never a
pickle. :func:`load_inputs` applies it to scoring data; a column that is
missing or was not seen in training is an error naming the column.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from memae.data.images import load_image_folder
from memae.data.tabular import CategoricalEncoder, Table, load_table, table_columns

__all__ = ["InputSpec", "Inputs", "binary_labels", "detect_kind", "fit_inputs", "load_inputs",
           "spec_for_model"]

KINDS = ("table", "images")


@dataclass
class InputSpec:
    """How a model's input is read; saved as ``input.json``.

    Attributes
    ----------
    kind : {"table", "images"}
    label_col, ignore_cols, categorical_cols :
        As given to :func:`memae.data.load_table` at training time.
    encoder :
        :meth:`CategoricalEncoder.to_dict` state (tables only).
    feature_names :
        Names of the model's input columns after encoding (tables only).
    image_size, color :
        As given to :func:`memae.data.images.load_image_folder` (images only).
    normal_labels :
        Label values (or class folders) that mean "normal"; see :func:`binary_labels`.
    sample_shape :
        Shape of one sample as the model sees it.
    """

    kind: str
    label_col: str | None = None
    ignore_cols: list[str] = field(default_factory=list)
    categorical_cols: list[str] = field(default_factory=list)
    encoder: dict[str, Any] | None = None
    feature_names: list[str] = field(default_factory=list)
    image_size: list[int] | None = None
    color: str = "gray"
    normal_labels: list[str] = field(default_factory=list)
    sample_shape: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The spec as a JSON-ready dict, as :meth:`from_dict` reads it."""
        return asdict(self)

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> InputSpec:
        """Rebuild from :meth:`to_dict`; unknown keys are an error."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(state) - known)
        if unknown or state.get("kind") not in KINDS:
            raise ValueError(f"input spec has unknown keys {unknown} or kind "
                             f"{state.get('kind')!r}; expected keys from {sorted(known)} "
                             f"and kind in {KINDS}. Was input.json edited?")
        return cls(**state)


@dataclass(frozen=True)
class Inputs:
    """Samples ready for the detector.

    ``X`` is float32 ``(n, d)`` or ``(n, C, H, W)``; ``y`` is 0 (normal) / 1
    (anomaly) or ``None`` when unknown; ``ids`` names each sample (the row
    number, or the image path relative to the folder).
    """

    X: np.ndarray
    y: np.ndarray | None
    ids: tuple[str, ...]


def detect_kind(path: str | os.PathLike[str], format: str = "auto") -> str:
    """``"images"`` for a folder, ``"table"`` for a file, unless ``format`` says which."""
    if format in KINDS:
        return format
    if format != "auto":
        raise ValueError(f"format must be 'auto', 'table' or 'images', got {format!r}.")
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"data path {str(path)!r} does not exist; check --data.")
    return "images" if path.is_dir() else "table"


TRAIN_LABELS_FIX = ("name the normal value(s) with --normal-labels (data.normal_labels), "
                    "e.g. --normal-labels normal.")
SCORE_LABELS_FIX = ("the model was trained without normal_labels, so labels are read as 0/1; "
                    "retrain with --normal-labels, or drop the label column from this file.")


def binary_labels(values: np.ndarray, normal_labels: Sequence[str], source: str,
                  fix: str = TRAIN_LABELS_FIX) -> np.ndarray:
    """0 (normal) / 1 (anomaly) from raw labels.

    With ``normal_labels``, a value whose text is listed is normal and every
    other value anomalous. Without, the values must already be 0 and 1;
    ``fix`` is the advice the error gives otherwise.
    """
    if normal_labels:
        text = np.asarray(values).astype(str)
        return (~np.isin(text, list(normal_labels))).astype(np.int64)
    numeric = np.asarray(values)
    if numeric.dtype.kind in "iub" or (numeric.dtype.kind == "f" and np.isfinite(numeric).all()):
        if np.isin(numeric, (0, 1)).all():
            return numeric.astype(np.int64)
    seen = sorted({str(v) for v in np.asarray(values).tolist()})[:5]
    raise ValueError(f"{source} holds {seen}, not 0/1; {fix}")


def _table_inputs(table: Table, encoder: CategoricalEncoder, spec_labels: Sequence[str],
                  label_col: str | None, fix: str = TRAIN_LABELS_FIX) -> Inputs:
    with np.errstate(over="ignore"):  # beyond float32 becomes inf, which fit refuses
        X = encoder.transform(table).astype(np.float32)
    y = None
    if table.y is not None:
        y = binary_labels(table.y, spec_labels, f"label column {label_col or 'y'!r}", fix)
    return Inputs(X, y, tuple(str(i) for i in range(len(X))))


def _image_inputs(path: Path, spec: InputSpec, classes: Sequence[str], progress: bool) -> Inputs:
    folder = load_image_folder(
        path, color=spec.color, classes=classes, progress=progress,
        size=None if spec.image_size is None else (spec.image_size[0], spec.image_size[1]))
    has_classes = any(folder.classes)
    y = None
    if spec.normal_labels and has_classes:
        y = binary_labels(np.array(folder.classes), spec.normal_labels, "class folders")
    return Inputs(folder.images, y, folder.paths)


def _load_table(path: Path, progress: bool, **options: Any) -> Table:
    with tqdm(total=1, desc="loading table", unit="file", disable=not progress,
              leave=False) as bar:
        table = load_table(path, **options)
        bar.update()
    return table


def spec_for_model(input_shape: Sequence[int]) -> InputSpec:
    """The spec of a model saved without ``input.json`` (e.g. from Python).

    Tables: numeric columns as they are. Images: resized to the model's input
    size, one channel read as grayscale and three as RGB.
    """
    if len(input_shape) == 1:
        return InputSpec(kind="table", sample_shape=list(input_shape))
    channels, *spatial = input_shape
    if len(spatial) != 2 or channels not in (1, 3):
        raise ValueError(f"the model takes samples of shape {tuple(input_shape)}; only tables "
                         "and 1- or 3-channel images can be read from files.")
    return InputSpec(kind="images", image_size=list(spatial),
                     color="gray" if channels == 1 else "rgb", sample_shape=list(input_shape))


def fit_inputs(path: str | os.PathLike[str], *, format: str = "auto",
               label_col: str | None = None, ignore_cols: Sequence[str] = (),
               categorical_cols: Sequence[str] = (), image_size: Sequence[int] | None = None,
               color: str = "gray", classes: Sequence[str] = (),
               normal_labels: Sequence[str] = (), progress: bool = False
               ) -> tuple[Inputs, InputSpec]:
    """Load training data and learn how to read future data the same way.

    Tables go through :func:`memae.data.load_table` and a
    :class:`CategoricalEncoder` fitted here; image folders through
    :func:`memae.data.images.load_image_folder`.

    Returns
    -------
    (Inputs, InputSpec)
    """
    path = Path(path)
    kind = detect_kind(path, format)
    spec = InputSpec(kind=kind, normal_labels=list(normal_labels))
    if kind == "images":
        spec.image_size = None if image_size is None else [int(v) for v in image_size]
        spec.color = color
        inputs = _image_inputs(path, spec, classes, progress)
    else:
        if classes or image_size is not None:
            raise ValueError("classes and image_size apply to image folders, but "
                             f"{str(path)!r} is read as a table; drop them or pass a folder.")
        table = _load_table(path, progress, label_col=label_col, ignore_cols=list(ignore_cols),
                            categorical_cols=list(categorical_cols))
        encoder = CategoricalEncoder().fit(table)
        spec.label_col = label_col
        spec.ignore_cols = list(ignore_cols)
        spec.categorical_cols = list(categorical_cols)
        spec.encoder = encoder.to_dict()
        spec.feature_names = encoder.get_feature_names_out()
        inputs = _table_inputs(table, encoder, spec.normal_labels, label_col)
    spec.sample_shape = list(inputs.X.shape[1:])
    return inputs, spec


def load_inputs(path: str | os.PathLike[str], spec: InputSpec, *,
                classes: Sequence[str] = (), progress: bool = False) -> Inputs:
    """Read scoring data exactly as the training data was read.

    The label column is used when the file has it (scoring data may be
    unlabelled); ignored columns that the file lacks are skipped. Any other
    column that is missing or new is a ``ValueError`` naming it. Images are
    resized to the model's input size.
    """
    path = Path(path)
    kind = detect_kind(path, "auto")
    if kind != spec.kind:
        wanted = "a folder of images" if spec.kind == "images" else "a table file"
        raise ValueError(f"the model was trained on {spec.kind}, but {str(path)!r} reads as "
                         f"{kind}; pass {wanted}.")
    if kind == "images":
        if spec.image_size is None:  # the training images' own size: resize to it
            spec = replace(spec, image_size=list(spec.sample_shape[1:]))
        return _image_inputs(path, spec, classes, progress)
    columns = table_columns(path)
    label_col = spec.label_col if spec.label_col in columns else None
    table = _load_table(path, progress, label_col=label_col,
                        ignore_cols=[c for c in spec.ignore_cols if c in columns],
                        categorical_cols=[c for c in spec.categorical_cols if c in columns])
    if spec.encoder is None:  # a model saved from Python: numeric columns as they are
        if table.categorical_names:
            raise ValueError(f"{str(path)!r} has text columns {list(table.categorical_names)}, "
                             "but the model has no saved encoder (no input.json beside it); "
                             "drop them or train with `memae train`.")
        state = {"numeric": list(table.feature_names), "categories": {}}
    else:
        state = spec.encoder
    try:
        return _table_inputs(table, CategoricalEncoder.from_dict(state), spec.normal_labels,
                             label_col, SCORE_LABELS_FIX)
    except ValueError as error:
        raise ValueError(f"{str(path)!r}: {error}") from error
