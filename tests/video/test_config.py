"""VideoConfig: a JSON round trip, and bad settings refused by name."""

from __future__ import annotations

import json

import pytest

from memae import VideoDetector
from memae.video.config import VideoConfig
from memae.video.detector import preset_config


def test_config_round_trips_and_refuses_bad_values() -> None:
    config = preset_config("ped2-cpu")
    assert VideoConfig.from_dict(config.to_dict()) == config
    assert VideoConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    with pytest.raises(ValueError, match="unknown video settings \\['colour'\\]"):
        VideoConfig.from_dict({**config.to_dict(), "colour": True})
    with pytest.raises(ValueError, match="unknown video settings \\['colour'\\]; known: "):
        config.replace(colour=True)
    with pytest.raises(ValueError, match="unknown video settings \\['colour'\\]"):
        VideoDetector(config, colour=True)
    with pytest.raises(ValueError, match="smoothing: got 4; expected an odd window"):
        config.replace(smoothing=4)
    with pytest.raises(ValueError, match="precision: got 'fp16'"):
        config.replace(precision="fp16")
    with pytest.raises(ValueError, match="lr_schedule: got 'step'"):
        config.replace(lr_schedule="step")
    with pytest.raises(ValueError, match="score_batch_size: got 0"):
        VideoDetector(config, score_batch_size=0)
