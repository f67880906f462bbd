"""The ablation table: the paper's three variants as parameter overrides."""

from __future__ import annotations

import pytest

from memae import MemAEDetector
from memae.ablation import VARIANTS, variant_params


def test_the_table_is_the_papers() -> None:
    assert list(VARIANTS) == ["AE", "MemAE-nonSpar", "MemAE"]
    assert variant_params("AE") == {"memory": False}
    # Gong et al. (2019), Sec. 4: nonSpar drops both sparsity terms.
    assert variant_params("MemAE-nonSpar") == {"shrink_threshold": 0.0, "entropy_weight": 0.0}
    assert variant_params("MemAE") == {}


def test_every_variant_is_a_set_of_detector_parameters() -> None:
    for name in VARIANTS:
        assert set(variant_params(name)) <= set(MemAEDetector().get_params())


def test_a_copy_each_time_and_unknown_names_listed() -> None:
    variant_params("AE")["memory"] = True
    assert VARIANTS["AE"] == {"memory": False}
    with pytest.raises(ValueError, match=r"variant must be one of \['AE', 'MemAE-nonSpar', "
                                         r"'MemAE'\], got 'VAE'"):
        variant_params("VAE")
