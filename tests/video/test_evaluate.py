"""The Ped2 protocol's numbers: per-video min-max, pooled frame AUC, pixel AUC, mask names."""

from __future__ import annotations

import numpy as np
import pytest

from memae.video.evaluate import (
    frame_auc,
    minmax_normalize,
    ped2_mask_name,
    pixel_auc,
    resize_masks,
)


def test_minmax_maps_each_video_onto_the_unit_interval() -> None:
    np.testing.assert_allclose(minmax_normalize(np.array([2.0, 4.0, 3.0])), [0.0, 1.0, 0.5])
    np.testing.assert_array_equal(minmax_normalize(np.array([7.0, 7.0])), [0.0, 0.0])


def test_frame_auc_normalises_each_video_before_pooling() -> None:
    # Video a scores 10x video b; within each video the abnormal frame scores highest.
    scores = [np.array([10.0, 20.0, 30.0]), np.array([1.0, 2.0, 3.0])]
    labels = [np.array([0, 0, 1]), np.array([0, 0, 1])]
    assert frame_auc(scores, labels) == 1.0
    # Pooled raw scores: b's abnormal frame (3) ranks below a's normal ones (10, 20).
    # Normal frames: 10, 20, 1, 2; abnormal: 30 (beats 4), 3 (beats 1, 2): 6 of 8.
    assert frame_auc(scores, labels, normalize=False) == pytest.approx(6 / 8)


def test_frame_auc_refuses_mismatched_or_one_class_labels() -> None:
    with pytest.raises(ValueError, match="2 score arrays for 1 videos"):
        frame_auc([np.zeros(2), np.zeros(2)], [np.zeros(2)])
    with pytest.raises(ValueError, match=r"scores\[0\]: shape \(3,\) but labels \(2,\)"):
        frame_auc([np.zeros(3)], [np.zeros(2)])
    with pytest.raises(ValueError, match="every pooled frame has the same label"):
        frame_auc([np.arange(3.0)], [np.zeros(3)])


def test_masks_resize_by_majority_and_pixel_auc_pools_normalised_maps() -> None:
    mask = np.zeros((1, 4, 4), dtype=bool)
    mask[0, :2, :2] = True          # the top-left 2x2 block
    mask[0, 2, 2] = True            # one pixel of the bottom-right block: a minority
    np.testing.assert_array_equal(resize_masks(mask, (2, 2))[0], [[True, False],
                                                                  [False, False]])
    maps = [np.array([[[0.0, 1.0], [2.0, 9.0]]]), np.array([[[5.0, 5.5], [6.0, 7.0]]])]
    masks = [np.array([[[False, False], [False, True]]]),
             np.array([[[False, False], [False, True]]])]
    assert pixel_auc(maps, masks) == 1.0
    with pytest.raises(ValueError, match=r"maps\[0\]: shape \(1, 2, 2\) but masks\[0\]"):
        pixel_auc(maps[:1], [np.zeros((1, 3, 3), dtype=bool)])


def test_ped2_mask_names() -> None:
    assert ped2_mask_name("01") == "Test001" and ped2_mask_name("12") == "Test012"
    assert ped2_mask_name("Test004") == "Test004"
