"""Export a fitted detector to ONNX: raw input in, anomaly score per sample out.

A video model exports its window scoring instead (:class:`VideoScoringGraph`):
windows ``(batch, C, T, H, W)`` of preprocessed frames in, the squared error of
each of their frames ``(batch, T)`` out; a frame's score is the mean of its
windows' values, as :func:`memae.video.score_frames` computes it.

The exported graph does what :meth:`MemAEDetector.decision_function` does
(for a :class:`memae.MemAEEnsemble`, every member's graph and the standardised mean):
standardise with the training statistics (baked in as constants), run the
autoencoder, and average the squared error over every element of a sample.
Its input ``input`` has a dynamic batch axis; its outputs are ``score``
``(batch,)`` and, on request, ``reconstruction`` (same shape as the input, in
the input's units). The threshold and the input description travel in the
model's metadata (``memae.threshold``, ``memae.input_shape``,
``memae.input_spec``), so onnxruntime alone can score and flag samples; see
``docs/export.md``.
"""

from __future__ import annotations

import copy
import json
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from memae._version import __version__
from memae.atomic import atomic_path
from memae.video.detector import VideoDetector
from memae.video.signal import signal_channels

__all__ = ["EXPORTERS", "EnsembleScoringGraph", "ScoringGraph", "VideoScoringGraph",
           "check_onnx", "export_onnx", "onnx_reference_scores", "scoring_graph"]

EXPORTERS = ("dynamo", "legacy")
INPUT_NAME = "input"


class ScoringGraph(nn.Module):
    """``x -> (x - mean) / std -> autoencoder -> mean squared error per sample``.

    Parameters
    ----------
    model:
        The trained autoencoder (in eval mode).
    mean, std:
        The detector's scaling statistics, broadcastable to one sample; ``None``
        when the detector does not standardise.
    with_reconstruction:
        Also return the reconstruction, mapped back to the input's units.
    """

    mean: Tensor  # buffers registered in __init__
    std: Tensor

    def __init__(self, model: nn.Module, mean: np.ndarray | None, std: np.ndarray | None,
                 with_reconstruction: bool = False) -> None:
        super().__init__()
        self.model = model.eval()
        scale = mean is not None
        self.register_buffer("mean", torch.as_tensor(mean if scale else 0.0, dtype=torch.float32))
        self.register_buffer("std", torch.as_tensor(std if scale else 1.0, dtype=torch.float32))
        self.with_reconstruction = with_reconstruction

    def forward(self, x: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        """Scores ``(batch,)`` of raw samples ``x``; on request also their reconstruction."""
        xs = (x - self.mean) / self.std
        reconstruction = self.model(xs).reconstruction
        score = ((reconstruction - xs) ** 2).flatten(1).mean(dim=1)  # (batch,)
        if not self.with_reconstruction:
            return score
        return score, reconstruction * self.std + self.mean


class EnsembleScoringGraph(nn.Module):
    """``x -> mean over members of (member score - member mean) / member std``.

    What :meth:`memae.MemAEEnsemble.decision_function` computes, one
    :class:`ScoringGraph` per member.
    """

    member_mean: Tensor  # buffers registered in __init__
    member_std: Tensor

    def __init__(self, members: list[ScoringGraph], mean: np.ndarray, std: np.ndarray) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)
        self.register_buffer("member_mean", torch.as_tensor(mean, dtype=torch.float32))
        self.register_buffer("member_std", torch.as_tensor(std, dtype=torch.float32))

    def forward(self, x: Tensor) -> Tensor:
        """Mean over members of their standardised scores, ``(batch,)``."""
        scores = torch.stack([member(x) for member in self.members], dim=1)  # (batch, members)
        return ((scores - self.member_mean) / self.member_std).mean(dim=1)


class VideoScoringGraph(nn.Module):
    """Per-frame scores of video windows, and on request the reconstruction.

    ``windows (batch, C, T, H, W) -> (batch, T)``: for each frame, the mean over pixels of
    the channel-summed squared error.
    """

    def __init__(self, model: nn.Module, with_reconstruction: bool = False) -> None:
        super().__init__()
        self.model = model.eval()
        self.with_reconstruction = with_reconstruction

    def forward(self, x: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        """Per-frame scores ``(batch, T)`` of windows ``x``, and the reconstruction on request."""
        reconstruction = self.model(x).reconstruction
        score = ((reconstruction - x) ** 2).sum(dim=1).flatten(2).mean(dim=2)  # (batch, T)
        return (score, reconstruction) if self.with_reconstruction else score


def input_shape(detector: Any) -> tuple[int, ...]:
    """One sample's shape: a row, an image, or a video model's window ``(C, T, H, W)``."""
    if isinstance(detector, VideoDetector):
        config = detector.config
        return (signal_channels(config.input_signal), config.clip_length, *config.size)
    return tuple(detector.input_shape_)


def scoring_graph(detector: Any, with_reconstruction: bool = False) -> nn.Module:
    """The scoring graph of a fitted detector, ensemble or video model.

    The weights are copied to the CPU; the fitted estimator is left as it is.
    """
    if isinstance(detector, VideoDetector):
        if detector.config.frame_score != "reconstruction":
            raise ValueError(
                f"export: this video model scores frames with frame_score="
                f"{detector.config.frame_score!r}, which the exported graph does not "
                "compute; to export its reconstruction scores, set detector.config = "
                "detector.config.replace(frame_score='reconstruction') first")
        return VideoScoringGraph(copy.deepcopy(detector.model_).cpu(), with_reconstruction)

    def single(member: Any, reconstruction: bool) -> ScoringGraph:
        return ScoringGraph(copy.deepcopy(member.model_).cpu(), member.scale_mean_,
                            member.scale_std_, reconstruction)

    if not hasattr(detector, "estimators_"):
        return single(detector, with_reconstruction)
    if with_reconstruction:
        raise ValueError("an ensemble has one reconstruction per member, so it exports "
                         "scores only; drop with_reconstruction (--reconstruction).")
    return EnsembleScoringGraph([single(m, False) for m in detector.estimators_],
                                detector.member_mean_, detector.member_std_)


def _metadata(detector: Any, input_spec: dict[str, Any] | None) -> dict[str, str]:
    if isinstance(detector, VideoDetector):
        return {"memae.version": __version__, "memae.kind": "video",
                "memae.model": detector.config.model,
                "memae.input_shape": json.dumps(list(input_shape(detector))),
                "memae.video_config": json.dumps(detector.config.to_dict())}
    members = getattr(detector, "estimators_", None)
    name = (f"ensemble of {len(members)} x {members[0].model_name_}" if members
            else detector.model_name_)
    return {
        "memae.version": __version__,
        "memae.model": name,
        "memae.threshold": repr(float(detector.threshold_)),
        "memae.input_shape": json.dumps(list(detector.input_shape_)),
        "memae.input_spec": json.dumps(input_spec or {}),
    }


def export_onnx(detector: Any, path: str | os.PathLike[str], *,
                with_reconstruction: bool = False, exporter: str = "dynamo",
                input_spec: dict[str, Any] | None = None,
                opset_version: int | None = None) -> Path:
    """Write ``detector`` as an ONNX scoring graph to ``path``.

    Parameters
    ----------
    detector:
        A fitted :class:`memae.MemAEDetector` or :class:`memae.MemAEEnsemble`
        (an ensemble exports its score only, not a reconstruction).
    path:
        The ``.onnx`` file to write (one file; weights are embedded).
    with_reconstruction:
        Add the ``reconstruction`` output.
    exporter:
        ``"dynamo"`` (``torch.export``-based, PyTorch's default; needs
        ``onnxscript``) or ``"legacy"`` (TorchScript tracing; deprecated by
        PyTorch but quick). Both give scores within 1e-6 of PyTorch here.
    input_spec:
        How to read data for this model (``input.json``), stored as metadata.
    opset_version:
        ONNX opset; ``None`` lets the exporter choose.

    Returns
    -------
    pathlib.Path
    """
    if not (hasattr(detector, "model_") or hasattr(detector, "estimators_")):
        raise ValueError("this detector is not fitted; fit or load it before exporting.")
    if exporter not in EXPORTERS:
        raise ValueError(f"exporter must be one of {EXPORTERS}, got {exporter!r}.")
    try:
        import onnx
    except ImportError as error:
        raise ImportError("ONNX export needs onnx: pip install 'memae[onnx]'") from error
    path = Path(path)
    graph = scoring_graph(detector, with_reconstruction)
    example = torch.zeros((2, *input_shape(detector)), dtype=torch.float32)
    outputs = ["score", "reconstruction"] if with_reconstruction else ["score"]
    options: dict[str, Any] = {"input_names": [INPUT_NAME], "output_names": outputs,
                               "opset_version": opset_version}
    if exporter == "dynamo":
        options.update(dynamo=True, external_data=False, verbose=False,
                       dynamic_shapes=({0: torch.export.Dim("batch")},))
    else:
        options.update(dynamo=False, dynamic_axes={name: {0: "batch"}
                                                   for name in [INPUT_NAME, *outputs]})
    with warnings.catch_warnings():
        # The legacy tracer warns about itself and about Python ints in shapes;
        # the batch axis stays dynamic (tested), every other size is fixed by training.
        warnings.simplefilter("ignore")
        with atomic_path(path, "ONNX file") as tmp:
            torch.onnx.export(graph, (example,), str(tmp), **options)
            proto = onnx.load(str(tmp))
            onnx.helper.set_model_props(proto, _metadata(detector, input_spec))
            onnx.save(proto, str(tmp))
    return path


def onnx_reference_scores(detector: Any, X: np.ndarray) -> np.ndarray:
    """What the exported graph must output for ``X``, computed by PyTorch."""
    if not isinstance(detector, VideoDetector):
        return detector.decision_function(X)
    with torch.no_grad():
        return VideoScoringGraph(detector.model_)(
            torch.from_numpy(np.asarray(X, dtype=np.float32)).to(detector.device_)).cpu().numpy()


def check_onnx(detector: Any, path: str | os.PathLike[str], X: np.ndarray) -> float:
    """Largest absolute difference between onnxruntime's and PyTorch's scores of ``X``."""
    try:
        import onnxruntime as ort
    except ImportError as error:
        raise ImportError("checking an ONNX file needs onnxruntime: "
                          "pip install 'memae[onnx]'") from error
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (onnx_scores, *_) = session.run(None, {INPUT_NAME: np.asarray(X, dtype=np.float32)})
    return float(np.abs(onnx_scores - onnx_reference_scores(detector, X)).max())
