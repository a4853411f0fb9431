"""SHAP explanations of model scores: per-feature contributions, category
sub-scores and the top reasons in plain words.

The hot path uses LightGBM's native TreeSHAP (`predict(pred_contrib=True)`);
tests/unit/test_explain.py proves it equals `shap.TreeExplainer` to 1e-6. For
every explained row, base value + sum of contributions = the model's raw
output (before clipping to 0-100), which is what makes a stored explanation
consistent with its score.

Category sub-scores map the summed contributions of a category's features
(in score points) onto 0-100 with a logistic curve:

    sub_score(c) = 100 / (1 + exp(-sum(contributions of c) / SUB_SCORE_SCALE))

so 50 means "this category neither helped nor hurt", and a category that
added SUB_SCORE_SCALE points to the score reads 73.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from matching.features.extraction import CATEGORIES, FEATURE_NAMES, FEATURES, N_FEATURES
from matching.models import MatchExplanation, ScoreCategory, TopFactor
from matching.scoring.model import MatchingModel

SUB_SCORE_SCALE = 10.0
TOP_FACTORS = 3
#: a feature that moved the score by less than this is not a reason
MIN_REASON_POINTS = 0.05

_CATEGORY_INDEX = {
    c: np.array([i for i, f in enumerate(FEATURES) if f.category == c]) for c in CATEGORIES
}


_ALL = np.arange(N_FEATURES)


def _row_sums(matrix: NDArray[np.float64], columns: NDArray[np.intp]) -> NDArray[np.float64]:
    """Each row's sum over `columns`, exactly as numpy sums that row on its
    own (`row[columns].sum()`), whatever the number of rows.

    numpy's `sum(axis=1)` groups the additions differently for one row than
    for many, so it cannot be used; and rows stored before explanations
    were built a batch at a time were summed one by one, which a pair left
    unchanged keeps. numpy's pairwise sum of up to 128 values: below 8,
    added one by one to 0; otherwise eight running sums combined as
    ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7)), then the leftover
    values one by one (tests/unit/test_explain.py checks it against numpy).
    """
    values = [matrix[:, j] for j in columns]
    if len(values) > 128:
        raise ValueError("more than 128 columns: numpy would split the sum in halves")
    if len(values) < 8:
        total = np.zeros(len(matrix))
        for column in values:
            total = total + column
        return total
    r = [c.copy() for c in values[:8]]
    whole = len(values) - len(values) % 8
    for start in range(8, whole, 8):
        for j in range(8):
            r[j] += values[start + j]
    total = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
    for column in values[whole:]:
        total = total + column
    return total


@dataclass(frozen=True)
class Attributions:
    """SHAP values of n rows: contributions (n, N_FEATURES) and the base value."""

    contributions: NDArray[np.float64]
    base_value: float
    raw_scores: NDArray[np.float64]


def sub_score(contribution: float) -> float:
    # clamped so math.exp cannot overflow on absurd inputs
    z = max(-700.0, min(700.0, -contribution / SUB_SCORE_SCALE))
    return 100.0 / (1.0 + math.exp(z))


def factor_sentence(
    feature_index: int,
    row: NDArray[np.floating[Any]],
    contribution: float,
    values: dict[str, float] | None = None,
) -> str:
    """A reason a person can read, e.g. "+4.2 points: covers 80% of the required skills".

    The whole feature row is passed so a stand-in value (missing data, no
    preference) reads as such instead of as a measurement; `values` is that
    row by feature name, when the caller has it already.
    """
    if values is None:
        values = {name: float(v) for name, v in zip(FEATURE_NAMES, row, strict=True)}
    return _sentence(feature_index, float(row[feature_index]), contribution, values)


def _sentence(
    feature_index: int, value: float, contribution: float, values: dict[str, float]
) -> str:
    text = FEATURES[feature_index].sentence(value, values)
    shown = 0.0 if abs(contribution) < 0.05 else contribution  # never "-0.0"
    return f"{shown:+.1f} points: {text}"


class MatchExplainer:
    """Explains one model's scores."""

    def __init__(self, model: MatchingModel) -> None:
        self.model = model

    def attributions(self, x: NDArray[np.floating[Any]]) -> Attributions:
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != N_FEATURES:
            raise ValueError(f"x must be (n, {N_FEATURES}), got {x.shape}")
        if len(x) == 0:
            empty = np.zeros((0, N_FEATURES))
            return Attributions(empty, self.base_value(), np.zeros(0))
        out = np.asarray(
            self.model.booster.predict(x, pred_contrib=True, num_threads=1), dtype=np.float64
        )
        contributions = out[:, :N_FEATURES]
        base = float(out[0, N_FEATURES])
        return Attributions(contributions, base, contributions.sum(axis=1) + base)

    def base_value(self) -> float:
        one = np.zeros((1, N_FEATURES), dtype=np.float32)
        out = np.asarray(
            self.model.booster.predict(one, pred_contrib=True, num_threads=1), dtype=np.float64
        )
        return float(out[0, N_FEATURES])

    def explain(self, x: NDArray[np.floating[Any]]) -> list[MatchExplanation]:
        """One explanation per row of x (explain only rows that will be stored)."""
        x = np.asarray(x, dtype=np.float32)
        att = self.attributions(x)
        return build_explanations(x, att.contributions, att.base_value)

    def explain_for_storage(
        self, x: NDArray[np.floating[Any]]
    ) -> tuple[list[MatchExplanation], NDArray[np.float64]]:
        """`explain` as a write stores it: the explanations without the
        per-feature map (matches.contributions holds it, in registry order)
        and the contributions (n, N_FEATURES). A bulk re-rank explains tens of
        thousands of rows; building and validating a 36-key map per row that
        is then turned back into an array cost a fifth of the explain stage."""
        x = np.asarray(x, dtype=np.float32)
        att = self.attributions(x)
        explained = build_explanations(
            x, att.contributions, att.base_value, with_contributions=False
        )
        return explained, att.contributions


def build_explanation(
    features: NDArray[np.floating[Any]],
    contributions: NDArray[np.float64],
    base_value: float,
) -> MatchExplanation:
    """The explanation of one row (see `build_explanations`)."""
    return build_explanations(
        np.asarray(features)[np.newaxis, :], np.asarray(contributions)[np.newaxis, :], base_value
    )[0]


def build_explanations(
    features: NDArray[np.floating[Any]],
    contributions: NDArray[np.float64],
    base_value: float,
    *,
    with_contributions: bool = True,
) -> list[MatchExplanation]:
    """Sub-scores, the top three reasons by |contribution|, and the numbers
    behind them, for each row of `features` (n, N_FEATURES) and its SHAP
    `contributions` (n, N_FEATURES).

    A reason is a feature that says something about this pair (see
    `Feature.speaks`): indicators, stand-ins for missing data, "no preference"
    values and features silenced by the pair's other values (coverage of a job
    that requires no skills, commute to a remote job) are never shown, and
    neither is a feature that moved the score by less than 0.05 points. The
    contributions of every feature are kept (`with_contributions`), so the
    score still adds up.

    Sorting and sums are done for all rows at once (per row they cost more
    than the rest). The sums are numpy's one-row sums (`_row_sums`), so a
    row's numbers do not depend on which other rows were explained with it:
    the batch path and the per-entity path store the same explanation of a
    pair (tests/db/test_batch_rematch.py).
    """
    contributions = np.asarray(contributions, dtype=np.float64)
    n = len(contributions)
    if n == 0:
        return []
    order = np.argsort(-np.abs(contributions), axis=1, kind="stable").tolist()
    raw = (base_value + _row_sums(contributions, _ALL)).tolist()
    sums = [
        (ScoreCategory(c), _row_sums(contributions, idx).tolist())
        for c, idx in _CATEGORY_INDEX.items()
    ]
    rows = np.asarray(features).tolist()
    weights = contributions.tolist()
    out: list[MatchExplanation] = []
    for k in range(n):
        row, c = rows[k], weights[k]
        values = dict(zip(FEATURE_NAMES, row, strict=True))
        # the first TOP_FACTORS that qualify, best first (stop looking once
        # they are found)
        top: list[int] = []
        for i in order[k]:
            # sorted by |contribution| (NaN last): none after a small one qualifies
            if len(top) == TOP_FACTORS or not abs(c[i]) >= MIN_REASON_POINTS:
                break
            if FEATURES[i].speaks(row[i], values):
                top.append(i)
        out.append(
            MatchExplanation(
                sub_scores={category: sub_score(s[k]) for category, s in sums},
                top_factors=[
                    TopFactor(
                        feature=FEATURE_NAMES[i],
                        contribution=c[i],
                        sentence=_sentence(i, row[i], c[i], values),
                    )
                    for i in top
                ],
                base_value=float(base_value),
                raw_score=raw[k],
                contributions=dict(zip(FEATURE_NAMES, c, strict=True))
                if with_contributions
                else {},
            )
        )
    return out
