"""The one-pass memory read against the paper's formulas, term by term."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from memae import memory_read
from memae.memory import SHRINK_EPS, Memory, hard_shrink_relu
from memae.memory_read import FusedMemoryRead, read_memory, read_memory_graph


def paper_read(queries: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, lam: float,
               eps: float = SHRINK_EPS) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Eqs. (5)-(9) as the paper writes them: softmax, Eq. (7), L1 re-normalisation, entropy."""
    weights = hard_shrink_relu(torch.softmax(queries @ keys.T, dim=-1), lam, eps)
    entropy = (-weights * torch.log(weights + eps)).sum(dim=-1)
    return weights @ values, weights, entropy


def safe_rows(queries: torch.Tensor, keys: torch.Tensor, lam: float,
              margin: float = 1e-5) -> torch.Tensor:
    """Rows whose softmax weights all lie farther than ``margin`` from ``lam`` (all, if 0)."""
    w = torch.softmax(queries.double() @ keys.double().T, dim=-1)
    if lam == 0:
        return torch.ones(len(w), dtype=torch.bool)
    return ((w - lam).abs() > margin).all(dim=-1)


def peaked(rows: int, items: int, dim: int, sharpness: float, seed: int,
           dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """Trained-like addressing: queries near items, a few to a few dozen kept per row."""
    g = torch.Generator().manual_seed(seed)
    keys = F.normalize(torch.randn(items, dim, generator=g, dtype=dtype), dim=-1)
    near = keys[torch.randint(items, (rows,), generator=g)]
    queries = (near + 0.5 * torch.randn(rows, dim, generator=g, dtype=dtype) / math.sqrt(dim))
    return queries * sharpness, keys


CASES = [  # rows, items, dim, logit scale, lambda
    (1, 3, 2, 1.0, 0.2),
    (37, 10, 4, 3.0, 0.1),
    (300, 100, 16, 1.0, 0.01),
    (300, 100, 16, 8.0, 0.03),
    (513, 2000, 64, 1.0, 0.0025),
    (64, 2000, 32, 8.0, 1 / 2000),
    (50, 7, 3, 5.0, 0.0),
]


@pytest.mark.parametrize("rows, items, dim, scale, lam", CASES)
def test_forward_equals_paper_formula_in_float32(rows: int, items: int, dim: int, scale: float,
                                                 lam: float) -> None:
    torch.manual_seed(rows + items)
    q = torch.randn(rows, dim) * scale
    keys = torch.randn(items, dim) / math.sqrt(dim)
    values = torch.randn(items, dim)
    out, w, h = read_memory(q, keys, values, lam)
    ref_out, ref_w, ref_h = paper_read(q, keys, values, lam)
    ok = safe_rows(q, keys, lam)
    assert ok.float().mean() > 0.3
    torch.testing.assert_close(w[ok], ref_w[ok], atol=1e-6, rtol=0)
    torch.testing.assert_close(out[ok], ref_out[ok], atol=1e-6, rtol=0)
    assert h is None  # no autograd: the inference path skips the entropy
    _, _, h = read_memory(q.requires_grad_(), keys, values, lam)
    torch.testing.assert_close(h.detach()[ok], ref_h[ok], atol=1e-5, rtol=1e-6)


@pytest.mark.parametrize("sharpness, lam", [(4.0, 0.0025), (12.0, 0.0025), (30.0, 1 / 2000),
                                            (12.0, 0.0)])
def test_trained_like_addressing_equals_paper_formula(sharpness: float, lam: float) -> None:
    q, keys = peaked(1200, 2000, 64, sharpness, seed=int(sharpness))
    values = torch.randn(2000, 64)
    out, w, _ = read_memory(q, keys, values, lam)
    ref_out, ref_w, _ = paper_read(q, keys, values, lam)
    kept = (w > 0).sum(dim=-1).float()
    if lam > 0:
        assert 1 <= kept.median() <= 60
    ok = safe_rows(q, keys, lam)
    torch.testing.assert_close(w[ok], ref_w[ok], atol=1e-6, rtol=0)
    torch.testing.assert_close(out[ok], ref_out[ok], atol=1e-6, rtol=0)


def _loss_terms(out, w, h, rows):
    g = torch.Generator().manual_seed(1)
    a = torch.randn(out.shape, generator=g, dtype=out.dtype)
    b = torch.randn(w.shape, generator=g, dtype=w.dtype)
    c = torch.randn(h.shape, generator=g, dtype=h.dtype)
    return ((out * a)[rows].sum() + (w * b)[rows].sum() + (h * c)[rows].sum())


@pytest.mark.parametrize("sharpness, lam", [(2.0, 0.01), (4.0, 0.01), (8.0, 0.005),
                                            (20.0, 0.01), (4.0, 0.0)])
@pytest.mark.parametrize("eps, margin", [(1e-20, 1e-5), (SHRINK_EPS, 1e-4)])
def test_gradients_equal_paper_formula_in_float64(sharpness: float, lam: float, eps: float,
                                                  margin: float) -> None:
    # Eq. (7)'s derivative is 1 + eps (lambda - eps) / (w - lambda + eps)^2 on a kept
    # weight: with the paper's eps = 1e-12 that is within 1e-6 of 1 once w is 1e-4 away
    # from lambda; as eps -> 0, at any distance. The fused read is that limit.
    q, keys = peaked(400, 100, 16, sharpness, seed=3, dtype=torch.float64)
    values = torch.randn(100, 16, dtype=torch.float64)
    rows = safe_rows(q, keys, lam, margin)
    assert rows.sum() > 50
    grads = []
    for read in (read_memory, lambda *a: paper_read(*a, eps=eps)):
        leaves = [t.clone().requires_grad_() for t in (q, keys, values)]
        out, w, h = read(*leaves, lam)
        grads.append(torch.autograd.grad(_loss_terms(out, w, h, rows), leaves))
    (gq, gk, gv), (rq, rk, rv) = grads
    # Relative per row; a row with one kept item has no query gradient (its weight is 1).
    norms = rq[rows].norm(dim=-1)
    rel = (gq - rq)[rows].norm(dim=-1) / norms.clamp_min(1e-6 * norms.mean())
    assert rel.max() < 1e-6
    for fused, ref in ((gk, rk), (gv, rv)):
        assert (fused - ref).norm() / ref.norm() < 1e-6


def test_gradcheck_with_every_output_used() -> None:
    torch.manual_seed(0)
    q = torch.randn(9, 3, dtype=torch.float64, requires_grad=True)
    keys = torch.randn(6, 3, dtype=torch.float64, requires_grad=True)
    values = torch.randn(6, 3, dtype=torch.float64, requires_grad=True)
    assert safe_rows(q.detach(), keys.detach(), 0.1, 1e-3).all()
    assert torch.autograd.gradcheck(lambda *t: FusedMemoryRead.apply(*t, 0.1), (q, keys, values))


def test_every_weight_under_lambda_gives_zeros_and_finite_gradients() -> None:
    q = torch.zeros(5, 4, requires_grad=True)  # uniform weights 1/8 < lambda
    items = torch.randn(8, 4, requires_grad=True)
    out, w, h = read_memory(q, items, items, 0.2)
    assert torch.equal(w, torch.zeros(5, 8)) and torch.equal(out, torch.zeros(5, 4))
    assert torch.equal(h, torch.zeros(5))
    (out.sum() + h.sum() + w.sum()).backward()
    assert torch.equal(q.grad, torch.zeros(5, 4)) and torch.isfinite(items.grad).all()


def test_inference_path_equals_training_path() -> None:
    q, keys = peaked(700, 500, 8, 10.0, seed=5)
    values = torch.randn(500, 8)
    with torch.no_grad():
        fast = read_memory(q, keys, values, 0.002)
    train = read_memory(q.clone().requires_grad_(), keys, values, 0.002)
    assert torch.equal(fast.weights, train.weights.detach())
    assert torch.equal(fast.output, train.output.detach())


def test_blocks_do_not_change_the_result(monkeypatch: pytest.MonkeyPatch) -> None:
    q, keys = peaked(300, 50, 8, 6.0, seed=2)
    leaves = [t.clone().requires_grad_() for t in (q, keys, keys)]

    def run():
        out, w, h = read_memory(*leaves, 0.02)
        grads = torch.autograd.grad(out.sum() + h.sum(), leaves)
        return (out, w, h, *grads)

    whole = run()
    monkeypatch.setattr(memory_read, "CPU_BLOCK_ELEMENTS", 7 * 50)  # blocks of 7 rows
    blocked = run()
    for a, b in zip(whole, blocked, strict=True):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-6)


def test_traceable_graph_equals_fused_read_and_its_gradients() -> None:
    q, keys = peaked(200, 64, 8, 8.0, seed=4, dtype=torch.float64)
    results = []
    for read in (read_memory, read_memory_graph):
        leaves = [t.clone().requires_grad_() for t in (q, keys, keys)]
        out, w, h = read(*leaves, 0.02)
        loss = _loss_terms(out, w, h, torch.ones(200, dtype=torch.bool))
        results.append((out, w, h, *torch.autograd.grad(loss, leaves)))
    for a, b in zip(*results, strict=True):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=1e-9)


def test_reference_implementation_is_the_paper_formula() -> None:
    torch.manual_seed(0)
    fused = Memory(50, 8, shrink_threshold=0.03, addressing="cosine", temperature=0.1)
    reference = Memory(50, 8, shrink_threshold=0.03, addressing="cosine", temperature=0.1,
                       implementation="reference")
    reference.load_state_dict(fused.state_dict())
    z = torch.randn(4, 8, 5)
    a, b = fused(z), reference(z)
    ok = safe_rows(F.normalize(z.transpose(1, 2).reshape(-1, 8), dim=-1) / 0.1,
                   F.normalize(fused.items.detach(), dim=-1), 0.03).reshape(4, 5)
    torch.testing.assert_close(a.weights.permute(0, 2, 1)[ok], b.weights.permute(0, 2, 1)[ok],
                               atol=1e-6, rtol=0)
    torch.testing.assert_close(a.entropy, b.entropy, atol=1e-3, rtol=0)


@settings(max_examples=60, deadline=None)
@given(rows=st.integers(1, 40), items=st.integers(2, 300), dim=st.integers(1, 12),
       scale=st.floats(0.01, 40.0), lam_factor=st.floats(0.0, 4.0),
       cosine=st.booleans(), seed=st.integers(0, 2**16))
def test_fused_read_properties(rows: int, items: int, dim: int, scale: float,
                               lam_factor: float, cosine: bool, seed: int) -> None:
    torch.manual_seed(seed)
    lam = min(lam_factor / items, 0.99)
    memory = Memory(items, dim, shrink_threshold=lam, addressing="cosine" if cosine else "dot",
                    temperature=1 / scale if cosine else 1.0)
    if not cosine:
        with torch.no_grad():
            memory.items.mul_(scale)
    reference = Memory(items, dim, shrink_threshold=lam, implementation="reference",
                       addressing=memory.addressing, temperature=memory.temperature)
    reference.load_state_dict(memory.state_dict())
    z = torch.randn(rows, dim, requires_grad=True)
    out = memory(z)
    sums = out.weights.sum(dim=1)
    assert (out.weights >= 0).all()
    assert torch.all(((sums - 1).abs() < 1e-5) | (sums == 0))
    assert 0 <= out.entropy.item() <= math.log(items) + 1e-5
    ref = reference(z)
    if cosine:
        queries, keys = F.normalize(z.detach(), dim=-1) * scale, F.normalize(memory.items, dim=-1)
    else:
        queries, keys = z.detach(), memory.items
    ok = safe_rows(queries, keys.detach(), lam)
    # The fused read scales the unit queries by 1/T before the product, the reference after:
    # logits of up to 1/T = 40 differ by float32 rounding, their weights by a few 1e-6.
    torch.testing.assert_close(out.weights[ok], ref.weights[ok], atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(out.output[ok], ref.output[ok], atol=1e-5, rtol=1e-5)
    (out.output.sum() + out.entropy + out.weights.sum()).backward()
    assert torch.isfinite(z.grad).all() and torch.isfinite(memory.items.grad).all()


@pytest.mark.parametrize("sharpness, lam", [(10.0, 0.002), (1.0, 0.001), (10.0, 0.0)])
def test_gathered_and_dense_blocks_agree(monkeypatch: pytest.MonkeyPatch, sharpness: float,
                                       lam: float) -> None:
    q, keys = peaked(300, 500, 8, sharpness, seed=6, dtype=torch.float64)
    values = torch.randn(500, 8, dtype=torch.float64)
    results = []
    # every block dense; every one gathered; a dense read-out with a gathered backward
    for read, backward in ((0.0, 0.0), (1.0, 1.0), (0.0, 1.0)):
        monkeypatch.setattr(memory_read, "SPARSE_BACKWARD_DENSITY", backward)
        monkeypatch.setattr(memory_read, "SPARSE_READ_DENSITY", read)
        leaves = [t.clone().requires_grad_() for t in (q, keys, values)]
        out, w, h = read_memory(*leaves, lam)
        loss = _loss_terms(out, w, h, torch.ones(300, dtype=torch.bool))
        with torch.no_grad():
            fast = read_memory(q, keys, values, lam)
        results.append((out, w, h, fast.output, *torch.autograd.grad(loss, leaves)))
    for other in results[1:]:
        for a, b in zip(results[0], other, strict=True):
            torch.testing.assert_close(a, b, atol=1e-12, rtol=1e-10)


@settings(max_examples=80, deadline=None)
@given(rows=st.integers(1, 20), items=st.integers(1, 130), share=st.floats(0.0, 0.3),
       threshold=st.floats(0.0, 0.5), seed=st.integers(0, 2**16))
def test_few_kept_finds_every_weight_above_the_threshold(rows: int, items: int, share: float,
                                                         threshold: float, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    weights = torch.rand(rows, items, generator=g)
    weights[torch.rand(rows, items, generator=g) > share] = 0
    before = weights.clone()
    expected = (weights > threshold).nonzero(as_tuple=True)
    found = memory_read._few_kept(weights, threshold, 1.0)
    assert found is not None
    assert torch.equal(weights, before)  # looks, never writes
    def flat(rows_items: tuple[torch.Tensor, ...]) -> torch.Tensor:
        return (rows_items[0] * items + rows_items[1]).sort().values
    assert torch.equal(flat(found), flat(expected))
    assert len(torch.unique(flat(found))) == len(found[0])
    if len(expected[0]) > 0:
        fewer = 0.99 * len(expected[0]) / weights.numel()
        assert memory_read._few_kept(weights, threshold, fewer) is None
