"""The metric functions of benchmarks/quality.py against hand-computed values (no database)."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _load():
    sys.path.insert(0, str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location("bench_quality", BENCHMARKS / "quality.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


q = _load()


def test_dcg_uses_log2_rank_plus_one_discounts():
    # 3/log2(2) + 2/log2(3) + 0/log2(4) + 1/log2(5)
    assert q.dcg_at_k([3, 2, 0, 1]) == pytest.approx(3 + 2 / math.log2(3) + 1 / math.log2(5))
    assert q.dcg_at_k([1] * 12, k=10) == pytest.approx(
        sum(1 / math.log2(r + 1) for r in range(1, 11))
    )


def test_ndcg_binary_relevance():
    # the one relevant item served second: 1/log2(3)
    assert q.ndcg_at_k([0, 1, 0], [1, 0, 0, 0]) == pytest.approx(0.6309297535714575)
    assert q.ndcg_at_k([1, 0, 0], [0, 0, 1]) == pytest.approx(1.0)
    # not served at all (or below rank 10)
    assert q.ndcg_at_k([0] * 10 + [1], [1] + [0] * 10) == 0.0
    assert q.ndcg_at_k([0, 0], [0, 0, 0]) is None


def test_ndcg_graded_relevance_against_the_whole_market():
    # served 3, 2, 3, 0; the market's best possible list is 3, 3, 2, 1
    dcg = 3 + 2 / math.log2(3) + 3 / 2
    ideal = 3 + 3 / math.log2(3) + 2 / 2 + 1 / math.log2(5)
    got = q.ndcg_at_k([3, 2, 3, 0], [0, 1, 2, 3, 3, 0])
    assert got == pytest.approx(dcg / ideal)
    assert got == pytest.approx(0.911187, abs=1e-6)


def test_hit_at_k():
    assert q.hit_at_k([0, 0, 1], target=1, k=1) == 0.0
    assert q.hit_at_k([0, 0, 1], target=1, k=3) == 1.0
    assert q.hit_at_k([2, 2, 3], target=3, k=2) == 0.0  # only a best item counts
    assert q.hit_at_k([0] * 10 + [1], target=1, k=10) == 0.0
    with pytest.raises(ValueError):
        q.hit_at_k([1], target=0, k=1)


def test_list_and_mean_metrics():
    m = q.list_metrics([0, 1] + [0] * 8, [1] + [0] * 20)
    assert m == {"hit@1": 0.0, "hit@10": 1.0, "ndcg@10": pytest.approx(0.6309297535714575)}
    assert q.list_metrics([0, 0], [0, 0]) is None  # nothing relevant: the list does not count
    mean = q.mean_metrics([m, q.list_metrics([1], [1]), None])
    assert mean["n"] == 2
    assert mean["hit@1"] == pytest.approx(0.5)
    assert mean["ndcg@10"] == pytest.approx((0.6309297535714575 + 1) / 2)


def test_baseline_order_breaks_ties_by_the_pair_hash():
    assert q.baseline_order([0.1, 0.9, 0.5], [0, 0, 0]) == [1, 2, 0]
    assert q.baseline_order([0.5, 0.5, 0.9], [7, -3, 0]) == [2, 1, 0]


def test_distinct_share_of_reason_sets():
    sets = [["a", "b", "c"], ["c", "b", "a"], ["a", "b", "d"], ["a"]]
    assert q.distinct_share(sets) == pytest.approx(3 / 4)
    assert q.distinct_share([]) == 0.0
