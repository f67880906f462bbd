"""Wrote these tiny model files with memae 0.1.0 (commit a39d742): `python tests/legacy_files/make_files.py` there.

Kept to test that files of every kind written by that release still load with the same scores.
"""
import tempfile
from pathlib import Path
import numpy as np
from memae import MemAEDetector, MemAEEnsemble
from memae.video import discover_clips, make_synthetic_videos, write_frame_folders
from memae.video.checkpoint import save_video_model
from memae.video.config import video_config
from memae.video.train import train_video_model

out = Path("tests/legacy_files")
rng = np.random.default_rng(0)
X = rng.normal(size=(64, 5)).astype(np.float32)
det = MemAEDetector(model_params={"hidden": (8,), "latent_dim": 4}, memory_size=10, epochs=2,
                    random_state=0).fit(X)
det.save(out / "detector-0.1.0.safetensors")
np.save(out / "detector-0.1.0-scores.npy", det.decision_function(X[:8]))
ens = MemAEEnsemble(MemAEDetector(model_params={"hidden": (8,), "latent_dim": 4}, memory_size=10,
                                  epochs=1), n_estimators=2, max_samples=32, random_state=0).fit(X)
ens.save(out / "ensemble-0.1.0.safetensors")
np.save(out / "ensemble-0.1.0-scores.npy", ens.decision_function(X[:8]))
np.save(out / "tabular-rows.npy", X[:8])
with tempfile.TemporaryDirectory() as tmp:
    root = write_frame_folders(make_synthetic_videos(n_train=1, n_test=1, n_frames=20, size=(32, 32), seed=0), tmp)
    config = video_config("cpu", size=(32, 32), clip_length=4, smoothing=3, temporal_smoothing=1,
                          model_params={"channels": (2, 4, 4, 4), "memory_size": 10})
    trained = train_video_model(config, discover_clips(root, "training"), max_steps=2)
    save_video_model(trained, out / "video-0.1.0.safetensors")
    from memae.video.evaluate import evaluate_mode
    clips = discover_clips(root, "testing", labels=Path(tmp) / "testing" / "test_frame_mask")
    from memae.video.score import score_frames
    from memae.video.signal import model_inputs
    from memae.video.stream import iter_frames
    s = [f.score for f in score_frames(trained.model, model_inputs(iter_frames(clips[0], config.size), config.input_signal), config)]
    np.save(out / "video-0.1.0-scores.npy", np.array(s))
    import shutil; shutil.copytree(Path(tmp) / "testing" / "frames" / "01", out / "video-frames")
