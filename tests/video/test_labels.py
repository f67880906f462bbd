from pathlib import Path

import numpy as np
import pytest
import scipy.io
from PIL import Image

from memae.video import (
    discover_clips,
    frame_labels,
    load_npy_frame_labels,
    load_pixel_masks,
    parse_ucsd_m,
    ranges_to_labels,
    read_m_ranges,
    read_mat_ranges,
)

# UCSDped2.m, the official Ped2 test ground truth (1-based, inclusive).
PED2_RANGES = [
    [(61, 180)], [(95, 180)], [(1, 146)], [(31, 180)], [(1, 129)], [(1, 159)],
    [(46, 180)], [(1, 180)], [(1, 120)], [(1, 150)], [(1, 180)], [(88, 180)],
]  # fmt: skip
PED2_TEST_FRAMES = [180, 180, 150, 180, 150, 180, 180, 180, 120, 150, 180, 180]


def test_parse_ucsd_m_reads_several_ranges_explicit_indices_and_comments() -> None:
    text = """
    TestVideoFile = {};
    % TestVideoFile{end+1}.gt_frame = [1:2];   commented out
    TestVideoFile{end+1}.gt_frame = [61:180];
    TestVideoFile{end+1}.gt_frame = [5:10, 20:25 30];  % two ranges and a single frame
    TestVideoFile{4}.gt_frame = [7:9];
    TestVideoFile{3}.gt_frame = [];
    """
    assert parse_ucsd_m(text) == [[(61, 180)], [(5, 10), (20, 25), (30, 30)], [], [(7, 9)]]


def test_parse_ucsd_m_rejects_text_without_assignments_and_gaps() -> None:
    with pytest.raises(ValueError, match="no 'TestVideoFile"):
        parse_ucsd_m("x = 1;")
    with pytest.raises(ValueError, match=r"entries \[2\] are never assigned"):
        parse_ucsd_m("TestVideoFile{1}.gt_frame = [1:2]; TestVideoFile{3}.gt_frame = [4:5];")


def test_read_mat_ranges_reads_several_columns_per_clip(tmp_path: Path) -> None:
    gt = np.empty((1, 2), dtype=object)
    gt[0, 0] = np.array([[3], [5]])
    gt[0, 1] = np.array([[1, 10], [2, 12]])  # columns: frames 1-2 and 10-12
    scipy.io.savemat(tmp_path / "toy.mat", {"gt": gt})
    assert read_mat_ranges(tmp_path / "toy.mat") == [[(3, 5)], [(1, 2), (10, 12)]]
    labels = frame_labels(tmp_path / "toy.mat", [6, 12])
    np.testing.assert_array_equal(np.flatnonzero(labels[0]), [2, 3, 4])
    np.testing.assert_array_equal(np.flatnonzero(labels[1]), [0, 1, 9, 10, 11])
    with pytest.raises(ValueError, match="key: 'labels' is not in"):
        read_mat_ranges(tmp_path / "toy.mat", key="labels")
    with pytest.raises(ValueError, match="n_frames: 3 clip lengths given but toy.mat labels 2"):
        frame_labels(tmp_path / "toy.mat", [6, 12, 7])


def test_ranges_to_labels_is_one_based_inclusive_and_checks_bounds() -> None:
    np.testing.assert_array_equal(
        ranges_to_labels([(1, 2), (5, 5)], 6), [True, True, False, False, True, False]
    )
    with pytest.raises(ValueError, match=r"\(3, 7\) is not a valid .* n_frames=6"):
        ranges_to_labels([(3, 7)], 6)
    with pytest.raises(ValueError, match="suffix '.txt'"):
        frame_labels("gt.txt", [6])


def test_load_npy_frame_labels_keys_by_clip_name(tmp_path: Path) -> None:
    np.save(tmp_path / "01_0014.npy", np.array([0, 1, 1, 0], dtype=np.int64))
    np.save(tmp_path / "01_0002.npy", np.zeros(3))
    labels = load_npy_frame_labels(tmp_path)
    assert list(labels) == ["01_0002", "01_0014"]
    np.testing.assert_array_equal(labels["01_0014"], [False, True, True, False])
    with pytest.raises(FileNotFoundError, match="no .npy frame masks"):
        load_npy_frame_labels(tmp_path / "missing")


def test_load_pixel_masks_from_a_folder_skips_metadata_files(tmp_path: Path) -> None:
    folder = tmp_path / "Test002_gt"
    folder.mkdir()
    for t in (10, 9):
        mask = np.zeros((4, 6), dtype=np.uint8)
        mask[0, t - 9] = 255
        Image.fromarray(mask).save(folder / f"{t:03d}.bmp")
    (folder / "._009.bmp").write_bytes(b"not an image")  # macOS resource fork, never read
    masks = load_pixel_masks(tmp_path)
    assert list(masks) == ["Test002"]
    assert masks["Test002"].shape == (2, 4, 6) and masks["Test002"].dtype == bool
    np.testing.assert_array_equal(np.argwhere(masks["Test002"]), [[0, 0, 0], [1, 0, 1]])
    with pytest.raises(ValueError, match=r"clips: \['Test001'\] have no masks"):
        load_pixel_masks(tmp_path, clips=["Test001"])


@pytest.mark.real_data
def test_ped2_mat_holds_the_official_ranges(ped2_root: Path) -> None:
    assert read_mat_ranges(ped2_root / "ped2.mat") == PED2_RANGES


@pytest.mark.real_data
def test_ucsdped2_m_holds_the_official_ranges(ucsd_gt_root: Path) -> None:
    assert read_m_ranges(ucsd_gt_root / "UCSDped2.m") == PED2_RANGES


@pytest.mark.real_data
def test_ped2_labels_from_mat_equal_labels_from_m_for_all_clips(
    ped2_root: Path, ucsd_gt_root: Path
) -> None:
    from_mat = discover_clips(ped2_root, "testing", labels=ped2_root / "ped2.mat")
    from_m = discover_clips(ped2_root, "testing", labels=ucsd_gt_root / "UCSDped2.m")
    assert [c.n_frames for c in from_mat] == PED2_TEST_FRAMES
    for a, b in zip(from_mat, from_m, strict=True):
        np.testing.assert_array_equal(a.labels, b.labels)
    # 1,648 of the 2,010 Ped2 test frames are abnormal.
    assert sum(int(c.labels.sum()) for c in from_mat) == 1648


@pytest.mark.real_data
def test_ped2_pixel_masks_stream_from_the_tar_and_agree_with_frame_labels(
    ped2_root: Path, ucsd_gt_root: Path
) -> None:
    masks = load_pixel_masks(
        ucsd_gt_root / "UCSDped2_Test_gt_masks.tar.gz", clips=["Test001", "Test002"]
    )
    assert {k: v.shape for k, v in masks.items()} == {
        "Test001": (180, 240, 360),
        "Test002": (180, 240, 360),
    }
    assert int(masks["Test001"].sum()) == 92868
    assert int(masks["Test002"].sum()) == 69165
    clips = discover_clips(ped2_root, "testing", labels=ped2_root / "ped2.mat")
    for clip, name in zip(clips[:2], ["Test001", "Test002"], strict=True):
        np.testing.assert_array_equal(masks[name].any(axis=(1, 2)), clip.labels)
