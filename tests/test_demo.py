"""The offline digits demo: its images, and the table and means it prints."""

from __future__ import annotations

import numpy as np
import pytest

from memae.demo import DEMO_SETTINGS, DemoResult, digits_images
from memae.detector import MemAEDetector


def test_digits_are_single_channel_images_in_the_unit_range() -> None:
    X, y = digits_images()
    assert X.shape == (1797, 1, 8, 8) and X.dtype == np.float32
    assert X.min() == 0.0 and X.max() == 1.0  # scikit-learn's pixels are 0..16
    assert sorted(np.unique(y).tolist()) == list(range(10))


def test_result_table_and_means() -> None:
    result = DemoResult(auc={"AE": [0.5, 0.7], "MemAE": [0.75, 0.95]})
    assert result.means() == pytest.approx({"AE": 0.6, "MemAE": 0.85})
    assert result.table().splitlines() == [
        "| digit | AE | MemAE |",
        "|---|---|---|",
        "| 0 | 0.5000 | 0.7500 |",
        "| 1 | 0.7000 | 0.9500 |",
        "| **mean** | **0.6000** | **0.8500** |",
    ]


def test_demo_settings_are_valid_detector_parameters() -> None:
    detector = MemAEDetector(**DEMO_SETTINGS, memory=False)
    detector.check_fit(digits_images()[0][:16])  # builds the conv net for 8x8 digits
    assert detector.get_params()["memory_size"] == 400
