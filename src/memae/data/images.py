"""Image folders: ``<root>/<class>/*.png|jpg`` or a flat ``<root>/*.png|jpg``.

Images become one float32 array ``(n, C, H, W)`` in [0, 1] (``C`` = 1 for
grayscale, 3 for RGB), the layout the conv models take. Every image must have
the same size unless ``size`` resizes them. A header-only size check refuses
images whose pixel count exceeds ``max_pixels`` before any pixel is decoded,
so a small file that inflates to gigabytes (a decompression bomb) cannot
exhaust memory.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError
from tqdm.auto import tqdm

from memae.machine import physical_memory

__all__ = ["IMAGE_SUFFIXES", "MAX_INPUT_PIXELS", "MAX_PIXELS", "ImageFolder", "check_input_size",
           "list_images", "load_image_folder", "read_image"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")
MAX_PIXELS = 40_000_000
"""Default limit on width x height of one image (e.g. 6,300 x 6,300)."""

MAX_INPUT_PIXELS = 4096 * 4096
"""Limit on height x width of a model's input (``size``, ``--image-size``, a video
model's ``size``): one such float32 sample is 64 MB and a conv model's activations
many times that."""

_MODES = {"gray": "L", "rgb": "RGB"}


def check_input_size(size: Sequence[int], what: str) -> None:
    """Refuse an input size ``(height, width)`` above :data:`MAX_INPUT_PIXELS`."""
    height, width = size
    if height * width > MAX_INPUT_PIXELS:
        raise ValueError(f"{what} {height} x {width} is {height * width:,} pixels, more than "
                         f"the {MAX_INPUT_PIXELS:,} (4096 x 4096) a model input may have; "
                         "choose a smaller size.")


def _check_memory(n: int, sample: tuple[int, ...], root: Path) -> None:
    """Refuse to allocate ``n`` float32 samples that exceed the machine's memory."""
    needed = n * int(np.prod(sample)) * 4
    total = physical_memory()
    if total is not None and needed > total:
        raise ValueError(f"{n} images of {str(root)!r} at {sample[1]} x {sample[2]} x "
                         f"{sample[0]} channel(s) need {needed / 2**30:.1f} GiB as float32, "
                         f"more than this machine's {total / 2**30:.1f} GiB; use a smaller "
                         "image size or fewer images (classes).")


@dataclass(frozen=True)
class ImageFolder:
    """Images of a folder and where each came from.

    Attributes
    ----------
    images : numpy.ndarray
        float32 ``(n, C, H, W)`` in [0, 1].
    paths : tuple of str
        Each image's path relative to the root, with ``/`` separators.
    classes : tuple of str
        Each image's class folder; ``""`` in a flat folder.
    """

    images: np.ndarray
    paths: tuple[str, ...]
    classes: tuple[str, ...]


def _is_image(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES


def list_images(root: str | os.PathLike[str],
                classes: Sequence[str] = ()) -> list[tuple[str, str]]:
    """``(relative path, class)`` of every image under ``root``, sorted.

    A folder with image files directly inside is flat (class ``""``);
    otherwise each subfolder holding images is a class. ``classes`` keeps only
    the named class folders.
    """
    root = Path(root)
    if not root.is_dir():
        raise NotADirectoryError(f"image folder {str(root)!r} is not a directory; pass a "
                                 "folder of images or of class subfolders.")
    flat = sorted(p for p in root.iterdir() if _is_image(p))
    folders = sorted(p for p in root.iterdir() if p.is_dir() and any(map(_is_image, p.iterdir())))
    if flat and folders:
        raise ValueError(f"{str(root)!r} holds both images and class folders "
                         f"({[f.name for f in folders][:3]}); use one layout: "
                         "<root>/<class>/*.png or <root>/*.png.")
    if flat:
        if classes:
            raise ValueError(f"classes={list(classes)} was given but {str(root)!r} is a flat "
                             "folder without class subfolders; drop the classes option.")
        return [(p.name, "") for p in flat]
    names = [f.name for f in folders]
    missing = [c for c in classes if c not in names]
    if missing:
        raise ValueError(f"classes names {missing}, which {str(root)!r} does not have; "
                         f"choose from {names}.")
    entries = [(f"{f.name}/{p.name}", f.name) for f in folders
               if not classes or f.name in classes
               for p in sorted(f.iterdir()) if _is_image(p)]
    if not entries:
        raise ValueError(f"no images ({', '.join(IMAGE_SUFFIXES)}) found in {str(root)!r}.")
    return entries


# Pillow's integer gray modes wider than 8 bits (16-bit PNGs open as "I;16" or "I"):
# convert("L") would clip them to 255, so they are scaled by their own range instead.
_WIDE_GRAY = {"I;16": 65535.0, "I;16L": 65535.0, "I;16B": 65535.0, "I": 65535.0}


def _pixels(image: Image.Image, color: str, size: tuple[int, int] | None) -> np.ndarray:
    """float32 ``(H, W)`` or ``(H, W, 3)`` in [0, 1], scaled by the image's bit depth."""
    if image.mode in _WIDE_GRAY:
        gray = np.asarray(image, dtype=np.float32) / _WIDE_GRAY[image.mode]
        plane = Image.fromarray(np.clip(gray, 0.0, 1.0), mode="F")
        if size is not None:
            plane = plane.resize((size[1], size[0]), Image.Resampling.BILINEAR)
        array = np.asarray(plane, dtype=np.float32)
        return array if color == "gray" else np.repeat(array[..., None], 3, axis=2)
    image = image.convert(_MODES[color])
    if size is not None:
        image = image.resize((size[1], size[0]), Image.Resampling.BILINEAR)
    return np.asarray(image, dtype=np.float32) / 255.0


def read_image(path: str | os.PathLike[str], *, color: str = "gray",
               size: tuple[int, int] | None = None,
               max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """One image as float32 ``(C, H, W)`` in [0, 1].

    Parameters
    ----------
    color : {"gray", "rgb"}
        Converted to one or three channels, whatever the file stores.
    size : (height, width), optional
        Resize (bilinear) to this size.
    max_pixels : int
        Refuse larger images, checked from the header before decoding.
    """
    if color not in _MODES:
        raise ValueError(f"color must be one of {list(_MODES)}, got {color!r}.")
    try:
        with Image.open(path) as image:
            if image.width * image.height > max_pixels:
                raise ValueError(
                    f"image {str(path)!r} is {image.width}x{image.height} pixels, more than "
                    f"max_pixels={max_pixels}; resize it first or raise max_pixels if the "
                    "file is trusted.")
            array = _pixels(image, color, size)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError) as error:
        raise ValueError(f"cannot read image {str(path)!r}: {error}") from error
    return array[None] if array.ndim == 2 else np.moveaxis(array, -1, 0)


def load_image_folder(root: str | os.PathLike[str], *, color: str = "gray",
                      size: tuple[int, int] | None = None, classes: Sequence[str] = (),
                      max_pixels: int = MAX_PIXELS, progress: bool = False) -> ImageFolder:
    """Load every image under ``root`` (see :func:`list_images` for the layouts).

    Parameters
    ----------
    root : str or PathLike
        The folder.
    color : {"gray", "rgb"}
        Channels of the result: 1 or 3.
    size : (height, width), optional
        Resize every image; without it all images must share one size.
    classes : sequence of str
        Load only these class folders.
    max_pixels : int
        Per-image limit on width x height (a decompression-bomb guard).
    progress : bool
        Show a progress bar.

    Returns
    -------
    ImageFolder
    """
    root = Path(root)
    if size is not None:
        check_input_size(size, "size")
    entries = list_images(root, classes)
    first = read_image(root / entries[0][0], color=color, size=size, max_pixels=max_pixels)
    if size is None:
        check_input_size(first.shape[1:], f"image {entries[0][0]!r} (no size to resize to)")
    _check_memory(len(entries), first.shape, root)
    images = np.empty((len(entries), *first.shape), dtype=np.float32)
    images[0] = first
    bar = tqdm(entries[1:], desc="loading images", unit="img", disable=not progress,
               leave=False, initial=1, total=len(entries))
    for i, (relative, _) in enumerate(bar, start=1):
        image = read_image(root / relative, color=color, size=size, max_pixels=max_pixels)
        if image.shape != first.shape:
            raise ValueError(
                f"image {relative!r} has shape {image.shape[1:]} but {entries[0][0]!r} has "
                f"{first.shape[1:]} (height, width); set an image size (--image-size H W) "
                "to resize them all.")
        images[i] = image
    return ImageFolder(images, tuple(e[0] for e in entries), tuple(e[1] for e in entries))
