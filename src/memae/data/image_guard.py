"""Opening untrusted frame and mask files: clear errors and a decompression-bomb guard.

Pillow parses only the header in ``Image.open``; pixels are decoded later. So
the size can be checked before a tiny file that claims 100,000 x 100,000 pixels
is expanded into tens of gigabytes, and a truncated file fails at decode time,
which :func:`decoded` turns into a ``ValueError`` naming the file.
"""

from __future__ import annotations

import io
import struct
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from PIL import Image, UnidentifiedImageError

from memae.data import images

# memae.data.images.MAX_PIXELS (40 M pixels) is far above every dataset here
# (Ped2 frames are 360 x 240) and below Pillow's own bomb limit (~89 M pixels
# a warning, which open_image turns into an error; twice that, Pillow's error).

T = TypeVar("T")
# What Pillow raises on truncated or malformed files besides UnidentifiedImageError.
_PILLOW_ERRORS = (OSError, SyntaxError, IndexError, EOFError, struct.error)


def check_image_size(image: Image.Image, source: str, max_pixels: int | None = None) -> None:
    """Refuse images of more than ``max_pixels`` pixels before decoding them.

    ``max_pixels`` defaults to :data:`memae.data.images.MAX_PIXELS`, read at call time.
    """
    max_pixels = images.MAX_PIXELS if max_pixels is None else max_pixels
    width, height = image.size
    if width * height > max_pixels:
        raise ValueError(
            f"{source} claims {width} x {height} pixels, more than the {max_pixels} allowed "
            "(a decompression bomb or a wrong file); raise "
            "memae.data.images.MAX_PIXELS if it is genuine."
        )


def open_image(source: str | Path | bytes, name: str | None = None,
               formats: tuple[str, ...] | None = None) -> Image.Image:
    """Open an image lazily from a path or bytes, refusing non-images and bombs.

    Parameters
    ----------
    source:
        A file path, or the file's bytes.
    name:
        How errors name the image (default: the path).
    formats:
        Pillow formats to accept (default: any).

    Raises
    ------
    FileNotFoundError
        ``source`` is a path that does not exist.
    ValueError
        Not an image, or more than :data:`memae.data.images.MAX_PIXELS` pixels.
    """
    label = name or (repr(str(source)) if not isinstance(source, bytes) else "image bytes")
    if not isinstance(source, bytes) and not Path(source).is_file():
        raise FileNotFoundError(f"image {label} does not exist; check the path.")
    handle = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(handle, formats=formats)
    except (UnidentifiedImageError, Image.DecompressionBombError,
            Image.DecompressionBombWarning, *_PILLOW_ERRORS) as error:
        raise ValueError(f"{label} is not a readable image ({error})") from error
    try:
        check_image_size(image, label)
    except ValueError:
        image.close()
        raise
    return image


def decoded(image: Image.Image, decode: Callable[[Image.Image], T]) -> T:
    """``decode(image)``, with Pillow's errors on broken pixel data as ``ValueError``."""
    try:
        return decode(image)
    except _PILLOW_ERRORS as error:
        label = repr(getattr(image, "filename", "") or "image")
        raise ValueError(f"{label} is a truncated or corrupt image ({error})") from error
