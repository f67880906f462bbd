"""A trained model for scoring: batch norm folded into the layer before it.

In eval mode a batch norm is an affine map per channel, so a convolution or linear
layer followed by one is a single such layer with rescaled weights and a shifted bias
(:mod:`torch.nn.utils.fusion`): one pass over each feature map instead of two. The
activation after a folded norm then runs in place on the layer's fresh output.
Scores agree with the unfolded model's to float32 rounding (about 1e-7 relative).
"""

from __future__ import annotations

import copy
from typing import TypeVar

from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval, fuse_linear_bn_eval

_CONVS = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
_TRANSPOSED = (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)
_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)
_IN_PLACE = (nn.ReLU, nn.LeakyReLU, nn.ELU)

Model = TypeVar("Model", bound=nn.Module)


def _leading_norm(parent: nn.Module, name: str) -> tuple[nn.Module, str] | None:
    """The batch norm that child ``name`` of ``parent`` applies first: (its holder, its name)."""
    child = getattr(parent, name)
    if isinstance(child, _NORMS):
        return parent, name
    if isinstance(child, nn.Sequential) and len(child) > 0:
        return _leading_norm(child, "0")
    return None


def _fold_children(parent: nn.Module) -> None:
    """Fold every (linear or convolution, batch norm applied next) pair among ``parent``'s children.

    Children run in the order they were registered: true of ``nn.Sequential`` and of
    modules whose ``forward`` calls a convolution and then the module after it. The
    activation right after a folded norm then runs in place on the convolution's output.
    """
    names = [name for name, _ in parent.named_children()]
    for name, after in zip(names, names[1:], strict=False):
        conv = getattr(parent, name)
        if not isinstance(conv, (nn.Linear, *_CONVS, *_TRANSPOSED)):
            continue
        norm = _leading_norm(parent, after)
        if norm is None:
            continue
        holder, key = norm
        bn = getattr(holder, key)
        if not bn.track_running_stats or bn.running_mean is None:
            continue  # normalises by batch statistics even in eval mode: not affine
        setattr(parent, name, fuse_linear_bn_eval(conv, bn) if isinstance(conv, nn.Linear)
                else fuse_conv_bn_eval(conv, bn, transpose=isinstance(conv, _TRANSPOSED)))
        setattr(holder, key, nn.Identity())
        if isinstance(holder, nn.Sequential) and int(key) + 1 < len(holder):
            activation = holder[int(key) + 1]
            if isinstance(activation, _IN_PLACE):
                activation.inplace = True


def for_scoring(model: Model) -> Model:
    """``model`` in eval mode, or an eval-mode copy with its batch norms folded.

    The copy is made only when there is a batch norm to fold; ``model`` itself is
    then left as it is (its mode included).
    """
    if not any(isinstance(module, _NORMS) for module in model.modules()):
        return model.eval()
    folded = copy.deepcopy(model).eval()
    for module in list(folded.modules()):
        _fold_children(module)
    return folded
