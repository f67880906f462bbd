"""CIFAR-10 in its three common layouts, read without executing pickled code.

Supported layouts, detected from ``root``:

* the original python batches ``cifar-10-batches-py/{data_batch_1..5,test_batch}``,
  unpickled by :class:`RestrictedUnpickler`, which refuses every global except the NumPy
  array-reconstruction helpers (a pickle can otherwise run arbitrary code on load);
* an image folder ``<root>/<split>/<class>/*.jpg|*.png``;
* a tar archive (``.tar``, ``.tar.gz``, ...) of that folder, streamed member by member
  without extracting anything to disk.
"""

from __future__ import annotations

import io
import os
import pickle
import tarfile
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

# NumPy 2 renamed numpy.core to numpy._core; mypy checks both imports against one name.
try:
    from numpy._core.multiarray import _reconstruct
except ImportError:  # NumPy < 2
    from numpy.core.multiarray import _reconstruct  # type: ignore[no-redef]

__all__ = ["CIFAR10_CLASSES", "RestrictedUnpickler", "load_cifar10"]

CIFAR10_CLASSES: tuple[str, ...] = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip

_SPLITS = ("train", "test")
_BATCHES = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
_SIDE = 32
# A 32x32 RGB PNG is at most ~3.2 kB; anything far larger is not a CIFAR image.
_MAX_MEMBER_BYTES = 1 << 20


def _latin1_encode(text: str, encoding: str = "latin1") -> bytes:
    if encoding != "latin1":
        raise pickle.UnpicklingError(f"_codecs.encode with encoding={encoding!r} is refused")
    return text.encode("latin1")


_ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    # Arrays pickled by NumPy < 2 (the official batches) and by NumPy >= 2.
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    # Python 3 writes bytes this way under protocol 2 (e.g. dict keys like b"data").
    ("_codecs", "encode"): _latin1_encode,
}


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that resolves only NumPy array globals and refuses all others.

    Loading an untrusted pickle with :func:`pickle.load` can execute arbitrary code
    through ``__reduce__``; this class makes ``find_class`` raise
    :class:`pickle.UnpicklingError` for anything but the helpers needed to rebuild
    ``numpy.ndarray`` objects and protocol-2 ``bytes``.
    """

    def find_class(self, module: str, name: str) -> Any:
        """The allowed NumPy global ``module.name``; any other global raises ``UnpicklingError``."""
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(
                f"global {module}.{name} is refused: CIFAR-10 batches only need NumPy arrays"
            )
        return _ALLOWED_GLOBALS[(module, name)]


def _unpickle(path: Path) -> Any:
    if not path.is_file():
        raise FileNotFoundError(f"CIFAR-10 batch {str(path)!r} is missing; download it again")
    try:
        with path.open("rb") as handle:
            # The official batches are Python 2 pickles whose str objects are bytes.
            return RestrictedUnpickler(handle, encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as exc:
        raise ValueError(
            f"{str(path)!r} is not a safe, valid CIFAR-10 pickle ({exc}); download the "
            "official cifar-10-python.tar.gz again"
        ) from exc


def _load_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    batch = _unpickle(path)
    if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
        keys = sorted(batch) if isinstance(batch, dict) else type(batch).__name__
        raise ValueError(f"{str(path)!r} holds {keys}; expected a dict with b'data' and b'labels'")
    data, labels = batch[b"data"], np.asarray(batch[b"labels"], dtype=np.int64)
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2:
        raise ValueError(f"{str(path)!r}: b'data' must be a uint8 (n, 3072) array")
    if data.shape[1] != 3 * _SIDE * _SIDE or labels.shape != (data.shape[0],):
        raise ValueError(
            f"{str(path)!r}: b'data' has shape {data.shape} and b'labels' {labels.shape}; "
            "expected (n, 3072) and (n,)"
        )
    # Rows are channel-planar (1024 red, 1024 green, 1024 blue); move channels last.
    images = data.reshape(-1, 3, _SIDE, _SIDE).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels


def _decode(data: bytes, source: str) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data), formats=("JPEG", "PNG"))
    except UnidentifiedImageError as exc:
        raise ValueError(f"{source} is not a JPEG or PNG image; remove or replace it") from exc
    with image:
        # The header is parsed lazily; checking the size before decoding stops
        # decompression bombs dressed up as CIFAR images.
        if image.size != (_SIDE, _SIDE):
            raise ValueError(
                f"{source} is {image.size[0]}x{image.size[1]} pixels; CIFAR-10 images are "
                f"{_SIDE}x{_SIDE}. Resize the images or pass the right folder"
            )
        try:
            return np.asarray(image if image.mode == "RGB" else image.convert("RGB"))
        except OSError as exc:
            raise ValueError(f"{source} is a truncated or corrupt image ({exc})") from exc


def _tar_members(archive: Path, split: str) -> Iterator[tuple[str, str, bytes]]:
    """Yield (class name, file name, bytes) for ``<split>/<class>/<file>`` image members."""
    with tarfile.open(archive, mode="r|*") as tar:
        for member in tar:
            parts = PurePosixPath(member.name).parts
            if member.name.startswith("/") or ".." in parts:
                raise ValueError(
                    f"archive {str(archive)!r} has the unsafe member name {member.name!r} "
                    "(absolute or with '..'); refusing to read an archive built this way"
                )
            if not member.isfile() or len(parts) < 3 or parts[-3] != split:
                continue
            if not parts[-1].lower().endswith(_IMAGE_SUFFIXES):
                continue
            if member.size > _MAX_MEMBER_BYTES:
                raise ValueError(
                    f"archive member {member.name!r} is {member.size} bytes, over the "
                    f"{_MAX_MEMBER_BYTES}-byte limit for a 32x32 image; the archive is not CIFAR-10"
                )
            handle = tar.extractfile(member)
            if handle is not None:
                yield parts[-2], parts[-1], handle.read()


def _folder_members(split_dir: Path) -> Iterator[tuple[str, str, bytes]]:
    for class_dir in sorted(p for p in split_dir.iterdir() if p.is_dir()):
        for path in sorted(class_dir.iterdir()):
            if path.is_file() and path.suffix.lower() in _IMAGE_SUFFIXES:
                yield class_dir.name, path.name, path.read_bytes()


def _class_names(found: Sequence[str]) -> list[str]:
    # The canonical label order when the folders are the CIFAR-10 classes, else sorted.
    if set(found) <= set(CIFAR10_CLASSES):
        return list(CIFAR10_CLASSES)
    return sorted(set(found))


def _from_images(
    members: Iterator[tuple[str, str, bytes]], source: str, wanted: set[str] | None
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    records = []
    seen = set()
    for class_name, file_name, data in members:
        seen.add(class_name)
        if wanted is None or class_name in wanted:
            records.append((class_name, file_name, _decode(data, f"{source}:{file_name}")))
    if not seen:
        raise FileNotFoundError(
            f"no images found in {source}; expected <split>/<class>/*.jpg|png members"
        )
    names = _check_classes(_class_names(sorted(seen)), wanted)
    records.sort(key=lambda r: (names.index(r[0]), r[1]))
    images = np.stack([r[2] for r in records])
    labels = np.array([names.index(r[0]) for r in records], dtype=np.int64)
    return images, labels, names


def load_cifar10(
    root: str | os.PathLike[str],
    split: str = "train",
    classes: Sequence[str] | None = None,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Load CIFAR-10 from the python batches, an image folder or a tar of that folder.

    Parameters
    ----------
    root : str or PathLike
        One of: a folder containing ``cifar-10-batches-py/`` (or the batches folder
        itself); a folder containing ``train/`` and ``test/`` class folders; a tar archive
        of such a folder; or a folder holding exactly one such archive.
    split : {"train", "test"}
        Which split to load.
    classes : sequence of str, optional
        Load only these classes (by name). Labels keep their full-dataset indices.

    Returns
    -------
    images : numpy.ndarray
        uint8, shape (n, 32, 32, 3), RGB, sorted by label then file name for image layouts
        and in batch order for the python batches.
    labels : numpy.ndarray
        int64, shape (n,), indices into ``class_names``.
    class_names : list of str
        The canonical CIFAR-10 order when the classes are CIFAR-10's, else sorted names.

    Raises
    ------
    ValueError
        For a bad ``split`` or ``classes``, an unsafe pickle or archive, or images that are
        not 32x32.
    FileNotFoundError
        If ``root`` holds none of the supported layouts.
    """
    if split not in _SPLITS:
        raise ValueError(f"split={split!r} is not supported; pass split='train' or split='test'")
    if isinstance(classes, str) or not all(isinstance(c, str) for c in classes or ()):
        raise TypeError(f"classes={classes!r} must be a list of class names, e.g. ['cat', 'dog']")
    if classes is not None and len(classes) == 0:
        raise ValueError("classes=[] selects nothing; pass class names or classes=None for all")
    wanted = None if classes is None else set(classes)
    root = Path(root)
    if not root.exists():
        raise FileNotFoundError(f"root={str(root)!r} does not exist; pass the CIFAR-10 location")
    if root.is_dir():
        batch_dir = root / "cifar-10-batches-py"
        batch_dir = batch_dir if batch_dir.is_dir() else root
        if (batch_dir / _BATCHES[split][0]).is_file():
            return _from_batches(batch_dir, split, wanted)
        if (root / split).is_dir():
            return _from_images(_folder_members(root / split), str(root), wanted)
        archives = sorted(p for p in root.iterdir() if p.is_file() and tarfile.is_tarfile(p))
        if len(archives) != 1:
            raise FileNotFoundError(
                f"root={str(root)!r} holds no CIFAR-10 layout: expected cifar-10-batches-py/, "
                f"{split}/<class>/ image folders, or one tar archive (found {len(archives)})"
            )
        root = archives[0]
    if not tarfile.is_tarfile(root):
        raise ValueError(f"root={str(root)!r} is a file but not a tar archive; pass a folder")
    return _from_images(_tar_members(root, split), str(root), wanted)


def _check_classes(names: list[str], wanted: set[str] | None) -> list[str]:
    unknown = sorted((wanted or set()) - set(names))
    if unknown:
        raise ValueError(f"classes={unknown} are not in the data; choose from {names}")
    return names


def _from_batches(
    batch_dir: Path, split: str, wanted: set[str] | None
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    names = list(CIFAR10_CLASSES)
    meta = batch_dir / "batches.meta"
    if meta.is_file():
        content = _unpickle(meta)
        label_names = content.get(b"label_names", names) if isinstance(content, dict) else names
        names = [n.decode() if isinstance(n, bytes) else str(n) for n in label_names]
    _check_classes(names, wanted)
    parts = [_load_batch(batch_dir / name) for name in _BATCHES[split]]
    images = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    if labels.size and (labels.min() < 0 or labels.max() >= len(names)):
        raise ValueError(
            f"labels in {str(batch_dir)!r} range over [{labels.min()}, {labels.max()}]; "
            f"expected 0..{len(names) - 1}"
        )
    if wanted is not None:
        keep = np.isin(labels, [names.index(name) for name in wanted])
        images, labels = images[keep], labels[keep]
    return images, labels, names
