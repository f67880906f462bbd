"""Training checkpoints as data: one safetensors file, JSON in its header.

A checkpoint holds everything the training loop needs to continue exactly
where it stopped: model weights, Adam's moments and step counts, the state of
the shuffling generator and of the global torch RNG (dropout draws from it),
the best epoch's weights, the early-stopping counters and the loss history.
Tensors go into safetensors, everything else into a JSON document, so loading a
checkpoint never unpickles (never runs) anything. Files are written to a
temporary name and renamed, so a crash mid-write leaves the previous
checkpoint intact.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError

from memae.safefile import read_all, write_atomic
from memae.training import TrainingHistory, TrainState

CHECKPOINT_FORMAT = 1
CHECKPOINT_NAME = "checkpoint.safetensors"
METADATA_KEY = "memae_checkpoint"


def _flatten_optimizer(state: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, slots in state["state"].items():
        for name, value in slots.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optimizer.{index}.{name}"] = value
            else:
                scalars.setdefault(str(index), {})[name] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def _unflatten_optimizer(tensors: dict[str, torch.Tensor],
                         meta: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        _, index, name = key.split(".", 2)
        state.setdefault(int(index), {})[name] = value
    for index, slots in meta["scalars"].items():
        state.setdefault(int(index), {}).update(slots)
    return {"state": state, "param_groups": meta["param_groups"]}


def save_checkpoint(path: str | Path, state: TrainState,
                    extra: dict[str, Any] | None = None) -> Path:
    """Write ``state`` (and the JSON-ready ``extra``) to ``path`` atomically."""
    path = Path(path)
    tensors = {f"model.{k}": v for k, v in state.model.items()}
    if state.best_model is not None:
        tensors.update({f"best.{k}": v for k, v in state.best_model.items()})
    optimizer_tensors, optimizer_meta = _flatten_optimizer(state.optimizer)
    tensors.update(optimizer_tensors)
    tensors["rng.generator"] = state.generator
    tensors["rng.torch"] = state.torch_rng
    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    meta = {
        "format_version": CHECKPOINT_FORMAT,
        "epoch": state.epoch,
        # JSON has no infinity; ``None`` stands for "no best epoch yet".
        "best_val": state.best_val if math.isfinite(state.best_val) else None,
        "since_best": state.since_best,
        "has_best": state.best_model is not None,
        "finished": state.finished,
        "steps": state.steps,
        "history": state.history.to_dict(),
        "optimizer": optimizer_meta,
        "extra": extra or {},
    }
    write_atomic(path, tensors, {METADATA_KEY: json.dumps(meta)}, "checkpoint")
    return path


def load_checkpoint(path: str | Path) -> tuple[TrainState, dict[str, Any]]:
    """Read a checkpoint written by :func:`save_checkpoint`: ``(state, extra)``.

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    ValueError
        The file is not a memae checkpoint (truncated, garbage, another
        format) or has an unknown format version.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {str(path)!r}; check the path.")
    try:
        header, tensors = read_all(path)
        meta = json.loads(header[METADATA_KEY])
        if meta.get("format_version") != CHECKPOINT_FORMAT:
            raise ValueError(f"format version {meta.get('format_version')!r}, this memae "
                             f"reads {CHECKPOINT_FORMAT}")
        history = TrainingHistory.from_dict(meta["history"])
        state = TrainState(
            epoch=int(meta["epoch"]),
            model={k[6:]: v for k, v in tensors.items() if k.startswith("model.")},
            optimizer=_unflatten_optimizer(
                {k: v for k, v in tensors.items() if k.startswith("optimizer.")},
                meta["optimizer"]),
            generator=tensors["rng.generator"],
            torch_rng=tensors["rng.torch"],
            best_model=({k[5:]: v for k, v in tensors.items() if k.startswith("best.")}
                        if meta["has_best"] else None),
            best_val=math.inf if meta["best_val"] is None else float(meta["best_val"]),
            since_best=int(meta["since_best"]),
            history=history,
            finished=bool(meta["finished"]),
            steps=int(meta.get("steps", 0)),
        )
    except (SafetensorError, OSError, KeyError, TypeError, ValueError) as error:
        raise ValueError(
            f"{str(path)!r} is not a usable memae training checkpoint ({error}); delete it "
            "to train from scratch."
        ) from error
    return state, meta["extra"]


# Parameters that may change between a run and its resumption: they do not
# change the trained weights.
RESUMABLE_CHANGES = frozenset({"verbose", "device", "score_batch_size", "contamination",
                               "target_fpr", "score_stride", "fast_stride", "smoothing",
                               "temporal_smoothing", "num_workers", "cache_frames"})


def _plain(value: Any) -> Any:
    """``value`` as it reads back from JSON (tuples become lists, RNG objects None)."""
    return json.loads(json.dumps(value, default=lambda v: None))


def run_fingerprint(params: dict[str, Any], data: np.ndarray | dict[str, Any]
                    ) -> dict[str, Any]:
    """What must match for a checkpoint to be resumed: parameters and the data.

    ``data`` is the training array (its shape and a hash of its bytes are
    kept) or a JSON-ready description of data read lazily (video clips: their
    names, sources and frame counts).
    """
    if isinstance(data, np.ndarray):
        digest = hashlib.blake2b(np.ascontiguousarray(data).data, digest_size=16).hexdigest()
        data = {"shape": list(data.shape), "data_blake2b": digest}
    kept = {k: v for k, v in params.items() if k not in RESUMABLE_CHANGES}
    return _plain({"params": kept, **data})


@dataclass
class CheckpointRun:
    """Where one ``fit`` writes its checkpoints and what it resumes from.

    Attributes
    ----------
    path:
        The checkpoint file, ``None`` when checkpointing is off.
    fingerprint:
        :func:`run_fingerprint` of this fit, stored in every checkpoint.
    state, seed:
        The state and seed to resume from, ``None`` for a fresh start.
    """

    path: Path | None
    fingerprint: dict[str, Any]
    state: TrainState | None = None
    seed: int | None = None

    @classmethod
    def open(cls, checkpoint_dir: str | Path | None, resume: bool, params: dict[str, Any],
             data: np.ndarray | dict[str, Any]) -> CheckpointRun:
        """Check the arguments and load the checkpoint to resume, if any."""
        if checkpoint_dir is None:
            if resume:
                raise ValueError("resume=True needs checkpoint_dir, the folder holding "
                                 f"{CHECKPOINT_NAME}; got checkpoint_dir=None.")
            return cls(None, {})
        directory = Path(checkpoint_dir)
        if directory.exists() and not directory.is_dir():
            raise ValueError(f"checkpoint_dir {str(directory)!r} is a file; give a folder.")
        fingerprint = run_fingerprint(params, data)
        path = directory / CHECKPOINT_NAME
        if not resume or not path.exists():
            return cls(path, fingerprint)
        state, extra = load_checkpoint(path)
        stored = extra.get("fingerprint", {})
        if stored != fingerprint:
            differ = sorted(k for k in {**stored.get("params", {}), **fingerprint["params"]}
                            if stored.get("params", {}).get(k) != fingerprint["params"].get(k))
            what = f"parameters {differ}" if differ else "training data"
            raise ValueError(
                f"checkpoint_dir {str(directory)!r} holds a checkpoint of another run (its "
                f"{what} differ from this fit); resume with the same X and parameters, or "
                "use a new checkpoint_dir or resume=False."
            )
        return cls(path, fingerprint, state, int(extra["seed"]))

    def writer(self, seed: int) -> Callable[[TrainState], None] | None:
        """The ``on_epoch_end`` callback that saves each state, or ``None``."""
        if self.path is None:
            return None
        path, extra = self.path, {"seed": seed, "fingerprint": self.fingerprint}

        def write(state: TrainState) -> None:
            save_checkpoint(path, state, extra)

        return write
