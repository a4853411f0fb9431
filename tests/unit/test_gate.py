"""The activation gate's statistics and the feedback weights, by hand (no database)."""

from __future__ import annotations

import numpy as np
import pytest

from matching.training import gate
from matching.training.feedback_weights import account_caps, examination_weights, feedback_weights


def test_list_ndcg_by_hand():
    labels = np.array([90.0, 10.0, 50.0])
    assert gate.list_ndcg(labels, labels) == pytest.approx(1.0)
    dcg = 0.1 + 0.5 / np.log2(3) + 0.9 / 2
    idcg = 0.9 + 0.5 / np.log2(3) + 0.1 / 2
    assert gate.list_ndcg(labels, -labels) == pytest.approx(dcg / idcg)


def test_tied_scores_rank_worst_first():
    """A constant model earns the worst order, not the input order's luck."""
    labels = np.array([90.0, 10.0, 50.0])
    constant = np.zeros(3)
    assert gate.list_ndcg(labels, constant) == pytest.approx(gate.list_ndcg(labels, -labels))


def test_propensity_weights_scale_gains():
    labels = np.array([100.0, 0.0, 100.0])
    scores = np.array([3.0, 2.0, 1.0])
    # the relevant row at the bottom was shown at rank 10: it counts 10x
    w = np.array([1.0, 1.0, 10.0])
    got = gate.list_ndcg(labels, scores, w)
    dcg = 1.0 + 10.0 / 2
    idcg = 10.0 + 1.0 / np.log2(3)
    assert got == pytest.approx(dcg / idcg)


def test_usable_lists_need_two_rows_and_two_labels():
    talent = np.array([0, 0, 1, 1, 2, 3, 3])
    job = np.array([0, 1, 0, 1, 2, 3, 4])
    labels = np.array([90.0, 10.0, 50.0, 50.0, 90.0, 10.0, 95.0])
    lists = gate.usable_lists(talent, job, labels, np.arange(7))
    got = sorted(
        (str(lists.side[i]), tuple(sorted(lists.members(i).tolist()))) for i in range(len(lists))
    )
    # talent 1 has one label twice, talent 2 one row; job 0 = rows 0, 2; job 1 = rows 1, 3
    assert got == [("job", (0, 2)), ("job", (1, 3)), ("talent", (0, 1)), ("talent", (5, 6))]


def test_bootstrap_refuses_a_tie_and_bounds_noise():
    zero = np.zeros(40)
    mean, lower = gate.paired_bootstrap_lower(zero, np.ones(40), confidence=0.95, samples=500)
    assert (mean, lower) == (0.0, 0.0)
    rng = np.random.default_rng(1)
    noisy = rng.normal(0.0, 0.1, 40)
    mean, lower = gate.paired_bootstrap_lower(noisy, np.ones(40), confidence=0.95, samples=2000)
    assert lower < mean and lower < 0.01
    real = rng.normal(0.08, 0.05, 40)
    _, lower = gate.paired_bootstrap_lower(real, np.ones(40), confidence=0.95, samples=2000)
    assert lower > 0.05


def test_bootstrap_list_weights_bound_a_heavy_list():
    gains = np.array([1.0] + [0.0] * 19)
    # the one winning list carries almost no weight (an over-represented account)
    weights = np.array([0.01] + [1.0] * 19)
    mean, _ = gate.paired_bootstrap_lower(gains, weights, confidence=0.95, samples=200)
    assert mean == pytest.approx(0.01 / 19.01)


def test_drift_flags_reordering_and_shift():
    rng = np.random.default_rng(2)
    active = rng.uniform(0, 100, 500)
    same = gate.drift(active + 1, active, min_rank_correlation=0.5, max_mean_shift=15)
    assert same.rank_correlation == pytest.approx(1.0) and not same.exceeded
    shuffled = gate.drift(
        rng.permutation(active), active, min_rank_correlation=0.5, max_mean_shift=15
    )
    assert abs(shuffled.rank_correlation) < 0.2 and shuffled.exceeded
    shifted = gate.drift(active - 30, active, min_rank_correlation=0.5, max_mean_shift=15)
    assert shifted.mean_shift == pytest.approx(-30) and shifted.exceeded


def test_examination_weights():
    got = examination_weights([1, 2, 10, None, 100], eta=1.0, max_weight=20.0)
    assert got.tolist() == [1.0, 2.0, 10.0, 1.0, 20.0]
    assert examination_weights([5], eta=0.0, max_weight=20.0).tolist() == [1.0]


def test_account_caps_bound_every_account():
    # one account with 500 rows, 30 accounts with 10 rows each
    accounts = ["flood"] * 500 + [f"a{k}" for k in range(30) for _ in range(10)]
    factor = account_caps(accounts, np.ones(len(accounts)), max_share=0.05)
    w = factor
    share = w[:500].sum() / w.sum()
    assert share == pytest.approx(0.05)
    assert np.allclose(w[500:], 1.0)  # light accounts keep their weight


def test_account_caps_water_fill_several_heavy_accounts():
    accounts = ["x"] * 300 + ["y"] * 200 + [f"a{k}" for k in range(40) for _ in range(5)]
    w = account_caps(accounts, np.ones(len(accounts)), max_share=0.05)
    total = w.sum()
    assert w[:300].sum() / total == pytest.approx(0.05)
    assert w[300:500].sum() / total == pytest.approx(0.05)
    assert max(w[500 + 5 * k : 505 + 5 * k].sum() for k in range(40)) / total <= 0.05 + 1e-9


def test_feedback_weights_have_mean_one():
    w = feedback_weights(["a", "b", "b"], [1, 3, None], max_share=1.0, eta=1.0, max_weight=20)
    assert w.mean() == pytest.approx(1.0)
    assert w[1] / w[0] == pytest.approx(3.0)


def test_chance_ndcg_is_the_mean_over_all_orders():
    labels = np.array([100.0, 0.0, 50.0])
    orders = [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ]
    every = [gate.list_ndcg(labels, -np.argsort(o).astype(float)) for o in orders]
    assert gate.chance_ndcg(labels) == pytest.approx(np.mean(every))
    assert gate.chance_ndcg(np.array([100.0, 0.0])) == pytest.approx((1 + 1 / np.log2(3)) / 2)
