"""Frame-level and pixel-level ground truth for video anomaly benchmarks.

Three label formats are read, all in pure Python (no MATLAB):

- ``ped2.mat`` / ``avenue.mat`` (the MNAD-style exports): key ``gt`` holds a 1 x n_clips
  cell; cell k is a 2 x K matrix whose columns are ``[first; last]`` abnormal frame ranges,
  1-based and inclusive.
- ``UCSDped1.m`` / ``UCSDped2.m`` (the original UCSD release): MATLAB text lines such as
  ``TestVideoFile{end+1}.gt_frame = [61:180];`` or ``TestVideoFile{3}.gt_frame = [1:40, 90:120];``.
- ShanghaiTech ``test_frame_mask/<clip>.npy``: one 0/1 vector per clip, one entry per frame.

Ranges are kept as 1-based inclusive ``(first, last)`` tuples, exactly as the files state
them, and only turned into 0-based boolean arrays by :func:`ranges_to_labels`.
"""

from __future__ import annotations

import re
import tarfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import scipy.io

from memae.data.image_guard import decoded, open_image

FrameRanges = list[tuple[int, int]]

_M_ASSIGNMENT = re.compile(
    r"TestVideoFile\s*\{\s*(end\s*\+\s*1|\d+)\s*\}\s*\.\s*gt_frame\s*=\s*\[([^\]]*)\]"
)
_M_TOKEN = re.compile(r"^(\d+)(?::(\d+))?$")


def _natural_key(text: str) -> list[int | str]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def parse_ucsd_m(text: str) -> list[FrameRanges]:
    """Parse the text of an original UCSD ground-truth ``.m`` file.

    Parameters
    ----------
    text : str
        Contents of e.g. ``UCSDped2.m``. ``%`` comments are ignored. Both
        ``TestVideoFile{end+1}`` and explicit ``TestVideoFile{k}`` indexing are understood;
        a bracket may list several ranges (``[a:b, c:d]``) or single frames (``[a, b:c]``).

    Returns
    -------
    list of list of (int, int)
        One list of 1-based inclusive ``(first, last)`` ranges per test clip, in clip order.
    """
    text = "\n".join(line.split("%", 1)[0] for line in text.splitlines())
    clips: dict[int, FrameRanges] = {}
    for match in _M_ASSIGNMENT.finditer(text):
        index_text, body = match.groups()
        index = len(clips) + 1 if index_text.startswith("end") else int(index_text)
        ranges: FrameRanges = []
        for token in filter(None, re.split(r"[\s,;]+", body.strip())):
            parsed = _M_TOKEN.match(token)
            if parsed is None:
                raise ValueError(
                    f"text: cannot parse gt_frame entry {token!r} of TestVideoFile{{{index}}}; "
                    "expected 'first:last' or a single frame number"
                )
            first = int(parsed.group(1))
            last = int(parsed.group(2) or first)
            ranges.append((first, last))
        clips[index] = ranges
    if not clips:
        raise ValueError(
            "text: no 'TestVideoFile{...}.gt_frame = [...]' assignment found; "
            "pass the contents of a UCSD ground-truth .m file such as UCSDped2.m"
        )
    missing = sorted(set(range(1, max(clips) + 1)) - set(clips))
    if missing:
        raise ValueError(f"text: TestVideoFile entries {missing} are never assigned")
    return [clips[k] for k in range(1, max(clips) + 1)]


def read_m_ranges(path: str | Path) -> list[FrameRanges]:
    """Read abnormal frame ranges from a UCSD ``.m`` file (see :func:`parse_ucsd_m`)."""
    return parse_ucsd_m(Path(path).read_text(encoding="utf-8", errors="replace"))


def read_mat_ranges(path: str | Path, key: str = "gt") -> list[FrameRanges]:
    """Read abnormal frame ranges from a ``ped2.mat``-style MATLAB file.

    Parameters
    ----------
    path : str or Path
        The ``.mat`` file.
    key : str, default "gt"
        Variable holding the 1 x n_clips cell of 2 x K ``[first; last]`` matrices.

    Returns
    -------
    list of list of (int, int)
        One list of 1-based inclusive ``(first, last)`` ranges per clip.
    """
    content = scipy.io.loadmat(str(path))
    if key not in content:
        found = sorted(k for k in content if not k.startswith("__"))
        raise ValueError(f"key: {key!r} is not in {path}; variables found: {found}")
    clips: list[FrameRanges] = []
    for k, cell in enumerate(np.asarray(content[key], dtype=object).ravel(), start=1):
        matrix = np.atleast_2d(np.asarray(cell))
        if matrix.size and matrix.shape[0] != 2:
            raise ValueError(
                f"{path}: {key}{{{k}}} has shape {matrix.shape}; expected 2 x K columns of "
                "[first; last] frame ranges"
            )
        clips.append([(int(a), int(b)) for a, b in matrix.reshape(2, -1).T])
    return clips


def ranges_to_labels(ranges: Sequence[tuple[int, int]], n_frames: int) -> np.ndarray:
    """Turn 1-based inclusive frame ranges into a boolean label per frame.

    Parameters
    ----------
    ranges : sequence of (int, int)
        ``(first, last)`` abnormal ranges, 1-based, inclusive.
    n_frames : int
        Number of frames of the clip.

    Returns
    -------
    numpy.ndarray
        Boolean array of shape ``(n_frames,)``; ``True`` marks an abnormal frame.
    """
    labels = np.zeros(n_frames, dtype=bool)
    for first, last in ranges:
        if not 1 <= first <= last <= n_frames:
            raise ValueError(
                f"ranges: ({first}, {last}) is not a valid 1-based inclusive range for a clip "
                f"of n_frames={n_frames}; check that labels and frames belong to the same clip"
            )
        labels[first - 1 : last] = True
    return labels


def frame_labels(path: str | Path, n_frames: Sequence[int]) -> list[np.ndarray]:
    """Load per-clip boolean frame labels from a ``.mat`` or UCSD ``.m`` file.

    Parameters
    ----------
    path : str or Path
        ``ped2.mat``-style file (key ``gt``) or an original ``UCSDpedN.m`` file.
    n_frames : sequence of int
        Frame count of each clip, in the file's clip order.

    Returns
    -------
    list of numpy.ndarray
        One boolean array of shape ``(n_frames[k],)`` per clip.
    """
    path = Path(path)
    if path.suffix == ".mat":
        ranges = read_mat_ranges(path)
    elif path.suffix == ".m":
        ranges = read_m_ranges(path)
    else:
        raise ValueError(
            f"path: {str(path)!r} has suffix {path.suffix!r}; expected a .mat file (key 'gt') "
            "or a UCSD .m file"
        )
    if len(ranges) != len(n_frames):
        raise ValueError(
            f"n_frames: {len(n_frames)} clip lengths given but {path.name} labels "
            f"{len(ranges)} clips; pass one frame count per labelled clip"
        )
    return [ranges_to_labels(r, n) for r, n in zip(ranges, n_frames, strict=True)]


def load_npy_frame_labels(directory: str | Path) -> dict[str, np.ndarray]:
    """Load ShanghaiTech-style per-clip frame masks (``test_frame_mask/<clip>.npy``).

    Parameters
    ----------
    directory : str or Path
        Folder of ``<clip name>.npy`` files, each a 1-D 0/1 vector with one entry per frame.

    Returns
    -------
    dict of str to numpy.ndarray
        Boolean frame labels keyed by clip name (the file stem), in natural order.
    """
    directory = Path(directory)
    files = sorted(directory.glob("*.npy"), key=lambda p: _natural_key(p.stem))
    if not files:
        raise FileNotFoundError(
            f"directory: no .npy frame masks in {directory}; expected e.g. "
            "ShanghaiTech's testing/test_frame_mask/01_0014.npy"
        )
    labels = {}
    for file in files:
        mask = np.load(file, allow_pickle=False)
        if mask.ndim != 1:
            raise ValueError(f"{file}: frame mask has shape {mask.shape}; expected (n_frames,)")
        labels[file.stem] = mask.astype(bool)
    return labels


def _is_mask_file(parts: Sequence[str]) -> bool:
    """``<clip>_gt/NNN.bmp``, skipping macOS metadata such as ``._NNN.bmp``."""
    return (
        len(parts) >= 2
        and parts[-2].endswith("_gt")
        and parts[-1].lower().endswith(".bmp")
        and not parts[-1].startswith(".")
    )


def _mask_entries(source: Path) -> Iterable[tuple[str, str, bytes]]:
    """Yield ``(clip folder, frame file name, bytes)`` for every ``<clip>_gt/*.bmp`` mask."""
    if source.is_dir():
        for file in source.glob("*_gt/*"):
            if file.is_file() and _is_mask_file(file.parts):
                yield file.parent.name, file.name, file.read_bytes()
        return
    # "r|*" streams the archive: members are read in order and never all extracted.
    with tarfile.open(source, mode="r|*") as archive:
        for member in archive:
            parts = Path(member.name).parts
            handle = archive.extractfile(member) if _is_mask_file(parts) else None
            if handle is not None:
                yield parts[-2], parts[-1], handle.read()


def load_pixel_masks(
    tar_or_dir: str | Path, clips: Iterable[str] | None = None
) -> dict[str, np.ndarray]:
    """Load UCSD pixel-level ground truth masks (``TestNNN_gt/*.bmp``).

    Parameters
    ----------
    tar_or_dir : str or Path
        ``UCSDped2_Test_gt_masks.tar.gz`` (read as a stream, nothing is extracted to disk)
        or a folder holding the ``TestNNN_gt`` folders.
    clips : iterable of str, optional
        Clip names to keep (``"Test001"``); all clips when omitted. Masks of the whole Ped2
        test set take about 175 MB, so select clips when memory matters.

    Returns
    -------
    dict of str to numpy.ndarray
        Boolean masks of shape ``(T, H, W)`` keyed by clip name without the ``_gt`` suffix,
        frames in natural order of their file names; ``True`` marks an abnormal pixel.
    """
    source = Path(tar_or_dir)
    if not source.exists():
        raise FileNotFoundError(
            f"tar_or_dir: {str(source)!r} does not exist; pass the masks .tar.gz or the folder "
            "holding TestNNN_gt/"
        )
    wanted = None if clips is None else set(clips)
    frames: dict[str, dict[str, np.ndarray]] = {}
    for folder, file_name, data in _mask_entries(source):
        clip = folder.removesuffix("_gt")
        if wanted is not None and clip not in wanted:
            continue
        with open_image(data, name=f"{folder}/{file_name} in {source}") as image:
            mask = decoded(image, lambda im: np.asarray(im.convert("L")) > 0)
        frames.setdefault(clip, {})[file_name] = mask
    if wanted is not None and wanted - frames.keys():
        raise ValueError(
            f"clips: {sorted(wanted - frames.keys())} have no masks in {source}; "
            f"available: {sorted(frames, key=_natural_key)}"
        )
    if not frames:
        raise ValueError(f"tar_or_dir: no TestNNN_gt/*.bmp masks in {source}")
    return {
        clip: np.stack([masks[name] for name in sorted(masks, key=_natural_key)])
        for clip, masks in sorted(frames.items(), key=lambda item: _natural_key(item[0]))
    }
