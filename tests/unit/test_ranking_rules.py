"""Pure rules of ranking: the order of ties, monotone priors, and features that
let a model learn what a population prefers (no database)."""

from __future__ import annotations

import uuid

import numpy as np

from matching.features.extraction import FEATURE_INDEX, FEATURES, N_FEATURES
from matching.pipeline.ranking import pair_tiebreak, rank_order
from matching.scoring.model import MatchingModel


def _ids(n: int, seed: int) -> list[uuid.UUID]:
    rng = np.random.default_rng(seed)
    return [uuid.UUID(bytes=rng.bytes(16), version=4) for _ in range(n)]


def test_ties_go_to_text_similarity_then_the_pair_hash_never_the_id():
    talent = _ids(1, 1)[0]
    jobs = _ids(40, 2)
    pairs = [(talent, j) for j in jobs]
    scores = np.full(40, 70.0)
    scores[:5] = 90.0
    similarity = np.full(40, 0.3)
    similarity[10] = 0.9  # the best text wins among the 70s
    similarity[11] = np.nan  # an unknown similarity ranks after known ones
    order = list(rank_order(scores, similarity, pairs))
    assert set(order[:5]) == {0, 1, 2, 3, 4}
    assert order[5] == 10
    assert order[-1] == 11
    rest = order[6:-1]
    hashes = [pair_tiebreak(talent, jobs[i]) for i in rest]
    assert hashes == sorted(hashes)
    # the hash spreads: it is not the order of the ids
    by_id = sorted(rest, key=lambda i: str(jobs[i]))
    assert rest != by_id


def test_the_order_is_score_similarity_hash_with_hashes_computed_only_for_ties():
    # rank_order hashes only the pairs tied on score and similarity: its
    # order must be the full three-key order, ties or not, NaN and -0.0 included
    rng = np.random.default_rng(5)
    talent = _ids(1, 3)[0]
    for n, levels in [(1, 1), (2, 1), (60, 3), (300, 40), (300, 10_000)]:
        jobs = _ids(n, n + levels)
        pairs = [(talent, j) for j in jobs]
        scores = np.round(rng.integers(0, levels, n) * 0.5, 2)
        scores[rng.random(n) < 0.1] = 0.0
        scores[rng.random(n) < 0.05] = np.nan  # never from the model; ordered all the same
        similarity = np.round(rng.integers(0, 4, n) * 0.25 - 0.5, 2)
        similarity[rng.random(n) < 0.1] = np.nan
        similarity[rng.random(n) < 0.1] = -0.0
        sim = np.where(np.isnan(similarity), -np.inf, similarity)
        ties = np.array([pair_tiebreak(t, j) for t, j in pairs], dtype=np.int64)
        full = np.lexsort((ties, -sim.astype(np.float32), -scores.astype(np.float32)))
        assert rank_order(scores, similarity, pairs).tolist() == full.tolist()


def test_pair_hash_is_stable_and_depends_on_both_sides():
    t, j = uuid.UUID(int=1), uuid.UUID(int=2)
    assert pair_tiebreak(t, j) == pair_tiebreak(t, j)
    assert pair_tiebreak(t, j) != pair_tiebreak(j, t)
    assert -(2**63) <= pair_tiebreak(t, j) < 2**63


def _rows(rng: np.random.Generator, n: int) -> np.ndarray:
    x = np.zeros((n, N_FEATURES), dtype=np.float32)
    for f in FEATURES:
        x[:, FEATURE_INDEX[f.name]] = rng.uniform(max(f.low, 0.0), min(f.high, 5.0), n)
    x[:, FEATURE_INDEX["company_size"]] = rng.integers(0, 5, n)
    return x


def test_a_population_preference_is_learned_from_the_attribute_for_unseen_jobs():
    # everyone prefers micro and small companies, and nobody said so: the label
    # depends on the job's company size only through the attribute feature
    rng = np.random.default_rng(7)
    x = _rows(rng, 3000)
    size = x[:, FEATURE_INDEX["company_size"]]
    text = x[:, FEATURE_INDEX["semantic_similarity"]]
    y = 40 + 30 * (size <= 1) + 20 * text + rng.normal(0, 3, 3000)
    model = MatchingModel.train(x, y, version="pref")
    unseen = _rows(np.random.default_rng(8), 1000)
    small = unseen.copy()
    small[:, FEATURE_INDEX["company_size"]] = 1
    large = unseen.copy()
    large[:, FEATURE_INDEX["company_size"]] = 4
    gap = model.predict(small) - model.predict(large)
    assert gap.mean() > 20 and (gap > 0).mean() > 0.95


def test_monotone_priors_hold_whatever_the_labels_say():
    # labels that reward worse text: the prior wins, a closer text never scores lower
    rng = np.random.default_rng(9)
    x = _rows(rng, 2000)
    x[:, FEATURE_INDEX["semantic_similarity"]] = rng.uniform(-1, 1, 2000)
    y = 50 - 30 * x[:, FEATURE_INDEX["semantic_similarity"]] + rng.normal(0, 2, 2000)
    model = MatchingModel.train(x, y, version="mono")
    probe = np.repeat(_rows(np.random.default_rng(10), 50), 21, axis=0)
    probe[:, FEATURE_INDEX["semantic_similarity"]] = np.tile(np.linspace(-1, 1, 21), 50)
    scores = model.predict_raw(probe).reshape(50, 21)
    assert np.all(np.diff(scores, axis=1) >= -1e-9)
    assert [f.monotone for f in FEATURES if f.name == "semantic_similarity"] == [1]
