"""The detector of each ablation variant under a benchmark's preset.

Every benchmark trains the same encoder and decoder the three ways of
:data:`memae.ablation.VARIANTS` (AE, MemAE-nonSpar, MemAE; Gong et al., ICCV 2019,
Sec. 4). The estimator's parameters come from the preset's ``detector`` section,
the protocol's (step cap, ensemble, input transform) from its ``benchmark``
section (:class:`memae.presets.BenchmarkSettings`); ``--config`` names the preset
(:func:`benchmark_preset`).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import QuantileTransformer

from memae.ablation import variant_params
from memae.detector import MemAEDetector
from memae.ensemble import MemAEEnsemble, member_rows
from memae.presets import BenchmarkSettings, Preset, load_preset

# input_transform name -> QuantileTransformer's output_distribution (None: no transform)
INPUT_TRANSFORMS: dict[str, str | None] = {
    "none": None, "quantile-normal": "normal", "quantile-uniform": "uniform"}


def epochs_for(epochs: int, batch_size: int, max_steps: int | None, n_train: int) -> int:
    """``epochs``, lowered so that ``epochs * batches_per_epoch`` stays near ``max_steps``."""
    if max_steps is None:
        return epochs
    batches = max(1, -(-n_train // batch_size))
    return max(1, min(epochs, -(-max_steps // batches)))


def make_detector(preset: Preset, variant: str, seed: int, n_train: int,
                  device: str = "cpu") -> MemAEDetector | MemAEEnsemble | Pipeline:
    """The detector (or ensemble) for one ablation ``variant`` under ``preset``.

    The preset's ``detector`` section, then ``random_state=seed``, ``device`` and the
    variant's parameters (:func:`memae.ablation.variant_params`). With an
    ``input_transform`` it is the last step of a scikit-learn pipeline.
    """
    settings = preset.settings
    if settings.input_transform not in INPUT_TRANSFORMS:
        raise ValueError(f"input_transform must be one of {list(INPUT_TRANSFORMS)}, "
                         f"got {settings.input_transform!r}.")
    params = {**copy.deepcopy(preset.detector), "random_state": seed, "device": device,
              **variant_params(variant)}
    detector = _detector(params, settings, seed, n_train, 2 if preset.kind == "tabular" else 4)
    distribution = INPUT_TRANSFORMS[settings.input_transform]
    if distribution is None:
        return detector
    transform = QuantileTransformer(n_quantiles=min(1000, n_train),
                                    output_distribution=distribution, random_state=seed)
    return make_pipeline(transform, detector)


def _detector(params: dict[str, Any], settings: BenchmarkSettings, seed: int,
              n_train: int, ndim: int) -> MemAEDetector | MemAEEnsemble:
    if settings.n_estimators > 1:
        member = _detector(params, dataclasses.replace(settings, n_estimators=1), seed,
                           member_rows(settings.max_samples, n_train), ndim)
        return MemAEEnsemble(member, n_estimators=settings.n_estimators,
                             max_samples=settings.max_samples, random_state=seed)
    detector = MemAEDetector(**params)
    epochs = detector.resolved_params(ndim)["epochs"]  # an "auto" resolved for the data
    return detector.set_params(epochs=epochs_for(epochs, detector.batch_size,
                                                 settings.max_steps, n_train))


def quick_preset(preset: Preset) -> Preset:
    """``preset`` with the changes of its ``benchmark.quick`` section (``--quick``)."""
    return preset.with_(**preset.settings.quick)


def benchmark_preset(config: str | None, benchmark: str, kind: str,
                     modes: Sequence[str] = (), aliases: Mapping[str, str] | None = None,
                     preset: Preset | None = None) -> tuple[Preset, set[str]]:
    """``--config`` as a preset and a set of protocol modes.

    ``config`` is comma-separated: each token is one of ``modes`` (e.g.
    ``validation``), a short name in ``aliases`` (``paper`` -> ``cifar10-paper``),
    a packaged preset name or the path of a preset file; ``default`` and an empty
    value mean the preset named ``benchmark``. At most one preset, of ``kind``;
    ``preset`` (:attr:`BenchmarkOptions.preset`) is that preset, and ``config``
    then holds modes only. A preset whose ``benchmark.protocol`` names another
    benchmark is refused.
    """
    aliases = dict(aliases or {})
    tokens = [t.strip() for t in (config or "").split(",") if t.strip() not in ("", "default")]
    given = {t for t in tokens if t in modes}
    named = [t for t in tokens if t not in modes]
    if len(named) > 1:
        raise ValueError(f"--config {config!r}: more than one preset ({named}); pass one, "
                         f"with any of the modes {list(modes)}.")
    if preset is not None and named:
        raise ValueError(f"--config {config!r} names a preset ({named[0]!r}) beside the "
                         f"preset given as an object ({preset.name!r}); pass one of them, "
                         f"the config then holds only modes from {list(modes)}.")
    if preset is None:
        name = aliases.get(named[0], named[0]) if named else benchmark
        try:
            preset = load_preset(name)
        except (ValueError, FileNotFoundError) as error:
            others = [*modes, *aliases]
            raise type(error)(f"--config {config!r}: {error} {benchmark} also takes "
                              f"{', '.join(others) or 'no other names'} (comma-separated)."
                              ) from error
    if preset.kind != kind:
        raise ValueError(f"--config {config!r}: preset {preset.source!r} has kind "
                         f"{preset.kind!r}, but benchmark {benchmark} trains on {kind} data; "
                         f"pass a {kind} preset (`memae presets` lists them).")
    protocol = preset.settings.protocol
    if protocol is not None and protocol != benchmark:
        raise ValueError(f"--config {config!r}: preset {preset.source!r} sets "
                         f"benchmark.protocol: {protocol}, not {benchmark}; run it with "
                         f"`memae benchmark {protocol}`, or change its benchmark.protocol.")
    return preset, given
