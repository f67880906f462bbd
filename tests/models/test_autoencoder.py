from __future__ import annotations

import pytest

from memae.models import create_model


def test_default_shrink_threshold_is_one_over_n() -> None:
    assert create_model("conv2d", memory_size=40).memory.shrink_threshold == pytest.approx(1 / 40)
