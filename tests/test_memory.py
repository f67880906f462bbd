"""The memory layer: hand-computed reads, shrinkage, entropy and invariants."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from memae.memory import Memory, addressing_entropy, hard_shrink_relu


def _memory(items: list[list[float]], **kwargs) -> Memory:
    memory = Memory(len(items), len(items[0]), **kwargs)
    with torch.no_grad():
        memory.items.copy_(torch.tensor(items))
    return memory.requires_grad_(False)


def _softmax(logits: list[float]) -> np.ndarray:
    e = np.exp(np.asarray(logits) - max(logits))
    return e / e.sum()


ITEMS = [[1.0, 0.0], [0.0, 2.0], [-1.0, -1.0]]
Z = [0.5, 1.0]


def test_dot_addressing_matches_hand_computation() -> None:
    memory = _memory(ITEMS, shrink_threshold=0.0)
    logits = [0.5, 2.0, -1.5]  # z . m_i
    w = _softmax(logits)
    out = memory(torch.tensor([Z]))
    np.testing.assert_allclose(out.weights[0].numpy(), w, atol=1e-6)
    np.testing.assert_allclose(out.output[0].numpy(), w @ np.array(ITEMS), atol=1e-6)


def test_cosine_addressing_matches_hand_computation() -> None:
    memory = _memory(ITEMS, shrink_threshold=0.0, addressing="cosine", temperature=0.5)
    nz = math.hypot(*Z)
    cos = [0.5 / nz, 2.0 / (nz * 2.0), -1.5 / (nz * math.sqrt(2))]
    w = _softmax([c / 0.5 for c in cos])
    out = memory(torch.tensor([Z]))
    np.testing.assert_allclose(out.weights[0].numpy(), w, atol=1e-6)
    np.testing.assert_allclose(out.output[0].numpy(), w @ np.array(ITEMS), atol=1e-6)


def test_shrinkage_matches_hand_computation() -> None:
    memory = _memory(ITEMS, shrink_threshold=0.2)
    w = _softmax([0.5, 2.0, -1.5])  # ~[0.175, 0.786, 0.039]
    shrunk = np.maximum(w - 0.2, 0) * w / (np.abs(w - 0.2) + 1e-12)
    shrunk /= shrunk.sum()
    np.testing.assert_allclose(memory(torch.tensor([Z])).weights[0].numpy(), shrunk, atol=1e-6)
    assert shrunk[0] == 0 and shrunk[2] == 0 and shrunk[1] == pytest.approx(1.0)


def test_every_weight_under_threshold_gives_zero_readout_not_nan() -> None:
    w = torch.full((2, 4), 0.25, requires_grad=True)
    shrunk = hard_shrink_relu(w, 0.3)
    assert torch.equal(shrunk, torch.zeros(2, 4))
    shrunk.sum().backward()
    assert torch.isfinite(w.grad).all()


def test_read_keeps_any_channel_first_shape() -> None:
    memory = Memory(7, 3)
    for shape in [(2, 3), (2, 3, 4, 5), (2, 3, 2, 4, 5)]:
        out = memory(torch.randn(*shape))
        assert out.output.shape == shape
        assert out.weights.shape == (shape[0], 7, *shape[2:])


def test_position_reads_match_flat_reads() -> None:
    memory = Memory(5, 3, shrink_threshold=0.1)
    z = torch.randn(2, 3, 4, 4)
    flat = memory(z.permute(0, 2, 3, 1).reshape(-1, 3))
    out = memory(z)
    torch.testing.assert_close(out.output.permute(0, 2, 3, 1).reshape(-1, 3), flat.output)


def test_read_stays_float32_under_bf16_autocast() -> None:
    # bf16 rounds a logit of 50 by about 0.2, which moves its weight by 20%: the whole read
    # runs in the items' precision, and so do the weights it returns.
    torch.manual_seed(0)
    memory = Memory(2000, 16, shrink_threshold=1 / 2000)
    with torch.no_grad():
        memory.items.mul_(20)  # logits of about +-50, as a trained dot memory has
    query = torch.randn(4, 16, 3, 5).to(torch.bfloat16)
    exact = memory(query.float())  # the same (bf16-rounded) query, all in float32
    with torch.autocast("cpu", dtype=torch.bfloat16):
        mixed = memory(query)
    assert mixed.weights.dtype == torch.float32 and mixed.output.dtype == torch.float32
    torch.testing.assert_close(mixed.weights, exact.weights, atol=1e-6, rtol=1e-6)
    # what plain autocast would do (bf16 logits) is far off, which is why it is not done
    flat = query.flatten(2).transpose(1, 2)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        rounded = (flat @ memory.items.T).softmax(-1)
    assert (rounded.float() - (flat.float() @ memory.items.T).softmax(-1)).abs().max() > 0.02


def test_wrong_channel_count_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"\(B, 3, \.\.\.\)"):
        Memory(5, 3)(torch.randn(2, 4))


@pytest.mark.parametrize("kwargs, match", [
    ({"addressing": "l2"}, "addressing"),
    ({"shrink_threshold": 1.5}, "shrink_threshold"),
    ({"temperature": 0.5}, "temperature only applies"),
    ({"addressing": "cosine", "temperature": 0.0}, "temperature"),
    ({"implementation": "triton"}, "implementation"),
])
def test_bad_options_are_refused(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Memory(4, 2, **kwargs)


def test_entropy_is_finite_at_zero_and_exact_for_uniform() -> None:
    w = torch.tensor([[1.0, 0.0, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25]], requires_grad=True)
    h = addressing_entropy(w)
    assert h.item() == pytest.approx(math.log(4) / 2, abs=1e-6)
    h.backward()
    assert torch.isfinite(w.grad).all()


@settings(max_examples=60, deadline=None)
@given(
    n_items=st.integers(2, 12), dim=st.integers(1, 6), n=st.integers(1, 10),
    scale=st.floats(0.01, 50.0), addressing=st.sampled_from(["dot", "cosine"]),
    lam_factor=st.floats(0.0, 5.0), seed=st.integers(0, 2**16),
)
def test_weight_invariants(n_items: int, dim: int, n: int, scale: float, addressing: str,
                           lam_factor: float, seed: int) -> None:
    torch.manual_seed(seed)
    lam = min(lam_factor / n_items, 0.99)
    memory = Memory(n_items, dim, shrink_threshold=lam, addressing=addressing)
    z = (torch.randn(n, dim) * scale).requires_grad_(True)
    out = memory(z)
    w = out.weights
    assert (w >= 0).all()
    sums = w.sum(dim=1)
    # Each position sums to one, or is all zero when every weight fell under lambda.
    assert torch.all(((sums - 1).abs() < 1e-5) | (sums == 0))
    (out.output.sum() + addressing_entropy(w) + out.entropy).backward()
    assert torch.isfinite(z.grad).all() and torch.isfinite(memory.items.grad).all()


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**16), n_items=st.integers(2, 20))
def test_nonzero_count_never_grows_with_lambda(seed: int, n_items: int) -> None:
    torch.manual_seed(seed)
    w = torch.softmax(torch.randn(8, n_items) * 3, dim=-1)
    counts = [(hard_shrink_relu(w, lam) > 0).sum(dim=-1)
              for lam in np.linspace(0, 3 / n_items, 7)]
    for before, after in zip(counts, counts[1:], strict=False):
        assert (after <= before).all()
