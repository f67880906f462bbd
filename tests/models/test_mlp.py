from __future__ import annotations

import pytest

from memae.models import create_model


def test_mlp_needs_in_features() -> None:
    with pytest.raises(ValueError, match="in_features"):
        create_model("mlp")
