"""The activation gate: a candidate model replaces the active one only on evidence.

Evidence means a gain in NDCG@10 on held-out feedback lists from both sides
(each talent's list of jobs and each job's list of talents) that survives a
paired bootstrap over those lists: the lower confidence bound of the weighted
mean gain must exceed the margin, so a tie (an identical candidate) or a gain
within the noise (a candidate fit to random labels) is refused.

The candidate must also beat chance the same way: its gain over the expected
NDCG of a random order of each list must clear the same bound. Against an
active model that ranks worse than chance (a market whose users want what
the model never learned), a candidate fit to noise is "better" than the
active model, but it is no better than chance, and it is refused.

Only lists that can tell two models apart count: at least two rows with at
least two distinct labels. A list of one row, or of one label, scores the same
for every model and would only dilute the gain towards a tie.

Ties between predicted scores are ordered worst label first (pessimistic), so a
model earns nothing by predicting a constant and letting the input order rank.

The drift guard compares candidate and active predictions on a fixed reference
sample of current pairs; a candidate that reorders the market much more than
usual (low rank correlation, large mean shift) must show a larger gain.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.stats import spearmanr

NDCG_K = 10

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


@dataclass(frozen=True)
class RankingLists:
    """Held-out lists as row indices: `rows[starts[i]:starts[i+1]]` is list i."""

    rows: I64
    starts: I64
    side: NDArray[np.str_]  # 'talent' (a talent's jobs) or 'job' (a job's talents)

    def __len__(self) -> int:
        return len(self.starts) - 1

    def members(self, i: int) -> I64:
        return self.rows[self.starts[i] : self.starts[i + 1]]


def usable_lists(
    talent_group: I64, job_group: I64, labels: F64, rows: I64, min_rows: int = 2
) -> RankingLists:
    """The lists among `rows` (one per talent, one per job) that can separate
    two rankings: at least `min_rows` rows and two distinct labels."""
    out_rows: list[I64] = []
    sides: list[str] = []
    for side, groups in (("talent", talent_group), ("job", job_group)):
        g = groups[rows]
        order = np.argsort(g, kind="stable")
        sorted_rows, sorted_g = rows[order], g[order]
        if len(sorted_g) == 0:
            continue
        cuts = np.flatnonzero(np.diff(sorted_g)) + 1
        for chunk in np.split(sorted_rows, cuts):
            if len(chunk) >= min_rows and np.unique(labels[chunk]).size >= 2:
                out_rows.append(chunk)
                sides.append(side)
    starts = np.zeros(len(out_rows) + 1, dtype=np.int64)
    if out_rows:
        starts[1:] = np.cumsum([len(c) for c in out_rows])
        flat = np.concatenate(out_rows).astype(np.int64)
    else:
        flat = np.zeros(0, dtype=np.int64)
    return RankingLists(rows=flat, starts=starts, side=np.array(sides, dtype=str))


def list_ndcg(labels: F64, scores: F64, weights: F64 | None = None, k: int = NDCG_K) -> float:
    """NDCG@k of one list; gains are labels on 0-1 times the row's weight (its
    inverse examination propensity), discounts 1/log2(rank + 1).

    Tied scores are ordered worst (weighted) gain first: a constant model
    ranks as badly as it could, never as well as the input order happens to.
    """
    gains = labels / 100.0 * (1.0 if weights is None else weights)
    order = np.lexsort((gains, -scores))  # score desc, then gain asc
    n = min(k, len(gains))
    discounts = 1.0 / np.log2(np.arange(2, n + 2))
    dcg = float((gains[order][:n] * discounts).sum())
    idcg = float((np.sort(gains)[::-1][:n] * discounts).sum())
    return dcg / idcg if idcg > 0 else 0.0


def chance_ndcg(labels: F64, weights: F64 | None = None, k: int = NDCG_K) -> float:
    """Expected NDCG@k of a uniformly random order of the list: every row is
    equally likely at every position, so E[DCG] = mean gain x sum of the
    first min(k, n) discounts. A model that knows nothing scores this."""
    gains = labels / 100.0 * (1.0 if weights is None else weights)
    n = min(k, len(gains))
    discounts = 1.0 / np.log2(np.arange(2, n + 2))
    idcg = float((np.sort(gains)[::-1][:n] * discounts).sum())
    return float(gains.mean() * discounts.sum()) / idcg if idcg > 0 else 0.0


def per_list_chance(
    lists: RankingLists, labels: F64, weights: F64 | None = None, k: int = NDCG_K
) -> F64:
    out = np.empty(len(lists))
    for i in range(len(lists)):
        m = lists.members(i)
        out[i] = chance_ndcg(labels[m], None if weights is None else weights[m], k)
    return out


def per_list_ndcg(
    lists: RankingLists, labels: F64, scores: F64, weights: F64 | None = None, k: int = NDCG_K
) -> F64:
    out = np.empty(len(lists))
    for i in range(len(lists)):
        m = lists.members(i)
        out[i] = list_ndcg(labels[m], scores[m], None if weights is None else weights[m], k)
    return out


def paired_bootstrap_lower(
    gains: F64,
    list_weights: F64,
    *,
    confidence: float,
    samples: int,
    seed: int = 0,
) -> tuple[float, float]:
    """(weighted mean gain, its one-sided lower confidence bound) by resampling
    whole lists with replacement; both models are scored on the same resample,
    so what varies is the paired difference only."""
    if len(gains) == 0:
        return 0.0, 0.0
    w = list_weights / list_weights.sum()
    mean = float((gains * w).sum())
    rng = np.random.default_rng(seed)
    n = len(gains)
    means = np.empty(samples)
    # chunks keep the (chunk x lists) count matrix small at 100k feedback rows
    chunk = max(1, 2_000_000 // max(n, 1))
    done = 0
    while done < samples:
        b = min(chunk, samples - done)
        counts = rng.multinomial(n, np.full(n, 1.0 / n), size=b).astype(np.float64)
        cw = counts * list_weights
        means[done : done + b] = (cw @ gains) / cw.sum(axis=1)
        done += b
    return mean, float(np.quantile(means, 1.0 - confidence))


@dataclass(frozen=True)
class Drift:
    """How differently the candidate scores the market than the active model."""

    rank_correlation: float
    mean_shift: float
    reference_pairs: int
    exceeded: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def drift(
    candidate: F64, active: F64, *, min_rank_correlation: float, max_mean_shift: float
) -> Drift:
    if len(candidate) < 2:
        return Drift(1.0, 0.0, len(candidate), False)
    if np.ptp(candidate) == 0 or np.ptp(active) == 0:
        rho = 1.0 if np.ptp(candidate) == np.ptp(active) == 0 else 0.0
    else:
        rho = float(spearmanr(candidate, active).statistic)
    shift = float(candidate.mean() - active.mean())
    exceeded = rho < min_rank_correlation or abs(shift) > max_mean_shift
    return Drift(round(rho, 4), round(shift, 3), len(candidate), exceeded)
