"""Unit tests of matching.explain: native TreeSHAP against the shap library,
additivity, top factors and their sentences, sub-scores, pydantic types. No database.

Expected sentences are derived from each feature's declared phrase (its own
format spec) and special phrases, not from `factor_sentence`.
"""

from __future__ import annotations

import math
import string

import numpy as np
import pytest
import shap

from matching.features.extraction import (
    CATEGORIES,
    FEATURE_INDEX,
    FEATURE_NAMES,
    FEATURES,
    N_FEATURES,
)
from matching.models import MatchExplanation
from matching.scoring.explain import (
    MIN_REASON_POINTS,
    SUB_SCORE_SCALE,
    TOP_FACTORS,
    MatchExplainer,
    _row_sums,
    build_explanation,
    factor_sentence,
    sub_score,
)
from matching.scoring.model import MatchingModel

INDICATORS = [f.name for f in FEATURES if "{yes_no}" in f.phrase]
NEUTRAL_FEATURES = [f.name for f in FEATURES if f.neutral_phrase is not None]


def synthetic(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows that look like real feature vectors: indicators are 0/1, the
    preference features are 0, 1 or the neutral 0.5, the rest uniform on 0-1."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, N_FEATURES))
    for name in INDICATORS:
        x[:, FEATURE_INDEX[name]] = rng.integers(0, 2, n)
    for name in NEUTRAL_FEATURES:
        x[:, FEATURE_INDEX[name]] = rng.choice([0.0, 0.5, 1.0], n)
    col = {name: x[:, FEATURE_INDEX[name]] for name in FEATURE_NAMES}
    y = (
        20.0
        + 45.0 * col["required_coverage"]
        + 20.0 * col["semantic_similarity"]
        - 15.0 * col["location_missing"]
        + 20.0 * (col["industry_match"] == 1.0)  # "no preference" (0.5) counts as no
        + 8.0 * col["salary_iou"] * (1.0 - col["salary_missing"])
        + rng.normal(0.0, 2.0, n)
    )
    return x.astype(np.float32), np.clip(y, 0.0, 100.0)


@pytest.fixture(scope="module")
def model() -> MatchingModel:
    x, y = synthetic(2000, seed=21)
    return MatchingModel.train(x, y, version="explain-1", seed=5)


@pytest.fixture(scope="module")
def explainer(model) -> MatchExplainer:
    return MatchExplainer(model)


@pytest.fixture(scope="module")
def rows() -> np.ndarray:
    return synthetic(200, seed=22)[0]


@pytest.fixture(scope="module")
def explanations(explainer, rows) -> list[MatchExplanation]:
    return explainer.explain(rows)


# -- native TreeSHAP = the shap library ------------------------------------------


def test_native_treeshap_equals_shap_tree_explainer(model, explainer, rows):
    reference = shap.TreeExplainer(model.booster)
    expected = reference.shap_values(rows)
    att = explainer.attributions(rows)
    assert att.contributions.shape == expected.shape == (len(rows), N_FEATURES)
    np.testing.assert_allclose(att.contributions, expected, rtol=0, atol=1e-6)
    assert float(np.ravel(reference.expected_value)[0]) == pytest.approx(att.base_value, abs=1e-6)
    assert att.base_value == pytest.approx(explainer.base_value(), abs=1e-12)


def test_native_treeshap_equals_shaps_own_algorithm(model, explainer, rows):
    # shap.TreeExplainer(booster).shap_values() hands LightGBM models straight to
    # LightGBM's pred_contrib, the very code under test. Handing shap the trees it
    # parsed from the booster makes it run its own TreeSHAP instead.
    parsed = shap.TreeExplainer(model.booster).model.trees
    independent = shap.TreeExplainer(parsed)
    assert independent.model.model_type == "internal"
    expected = independent.shap_values(rows.astype(np.float64))
    att = explainer.attributions(rows)
    np.testing.assert_allclose(att.contributions, expected, rtol=0, atol=1e-6)
    assert float(np.ravel(independent.expected_value)[0]) == pytest.approx(att.base_value, abs=1e-6)


# -- additivity --------------------------------------------------------------------


def test_base_plus_contributions_is_the_raw_score_for_every_row(model, explainer, rows):
    att = explainer.attributions(rows)
    raw = model.predict_raw(rows)
    np.testing.assert_allclose(att.base_value + att.contributions.sum(axis=1), raw, atol=1e-6)
    np.testing.assert_allclose(att.raw_scores, raw, atol=1e-6)


def test_explanations_carry_the_raw_score_and_clip_to_the_score(model, explanations, rows):
    raw = model.predict_raw(rows)
    scores = model.predict(rows)
    assert len(explanations) == len(rows)
    for k, e in enumerate(explanations):
        assert e.raw_score == pytest.approx(raw[k], abs=1e-6)
        assert e.base_value + sum(e.contributions.values()) == pytest.approx(e.raw_score, abs=1e-6)
        assert min(max(e.raw_score, 0.0), 100.0) == pytest.approx(scores[k], abs=1e-6)


def test_explanation_contributions_are_the_attributions(explainer, explanations, rows):
    att = explainer.attributions(rows)
    for k, e in enumerate(explanations):
        assert list(e.contributions) == list(FEATURE_NAMES)
        np.testing.assert_array_equal(list(e.contributions.values()), att.contributions[k])
        assert e.base_value == att.base_value


# -- top factors and their sentences ---------------------------------------------------


def _value_specs(phrase: str) -> list[str]:
    """The format specs the phrase applies to {value}, e.g. ['.0%']."""
    return [spec for _, field, spec, _ in string.Formatter().parse(phrase) if field == "value"]


def expected_text(name: str, row: np.ndarray) -> str:
    """What a feature's value means, from the feature's declaration."""
    f = FEATURES[FEATURE_INDEX[name]]
    value = float(row[FEATURE_INDEX[name]])
    if f.unknown_if is not None and row[FEATURE_INDEX[f.unknown_if]] >= 0.5:
        assert f.unknown_phrase
        return f.unknown_phrase
    if f.neutral is not None and value == f.neutral:
        assert f.neutral_phrase
        return f.neutral_phrase
    label = f.labels[round(value)] if f.labels is not None else ""
    return f.phrase.format(value=value, yes_no="yes" if value >= 0.5 else "no", label=label)


def check_sentence(name: str, row: np.ndarray, contribution: float, sentence: str) -> str:
    """Assert the sentence is right; return which kind of phrase it used."""
    f = FEATURES[FEATURE_INDEX[name]]
    value = float(row[FEATURE_INDEX[name]])
    signed = f"{0.0 if abs(contribution) < 0.05 else contribution:+.1f} points"
    assert signed in sentence
    assert sentence == f"{signed}: {expected_text(name, row)}"
    if sentence.endswith(f.unknown_phrase or "\0"):
        return "unknown"
    if sentence.endswith(f.neutral_phrase or "\0"):
        return "neutral"
    if "{yes_no}" in f.phrase:
        assert sentence.endswith("yes" if value >= 0.5 else "no")
        return "indicator"
    if "{label}" in f.phrase:
        assert f.labels is not None and f.labels[round(value)] in sentence
        return "label"
    specs = _value_specs(f.phrase)
    assert specs, f.phrase
    for spec in specs:
        assert format(value, spec) in sentence, (sentence, spec)
    return "value"


def _speaking(row: np.ndarray) -> np.ndarray:
    """Mask of the features whose value says something about this pair."""
    values = {name: float(v) for name, v in zip(FEATURE_NAMES, row, strict=True)}
    return np.array([f.speaks(float(row[i]), values) for i, f in enumerate(FEATURES)])


def test_top_factors_are_the_largest_speaking_contributions_in_order(explainer, explanations, rows):
    att = explainer.attributions(rows)
    silenced = 0
    for k, e in enumerate(explanations):
        c = att.contributions[k]
        magnitude = np.abs(c)
        eligible = _speaking(rows[k]) & (magnitude >= MIN_REASON_POINTS)
        assert len(e.top_factors) == min(TOP_FACTORS, int(eligible.sum()))
        names = [f.feature for f in e.top_factors]
        assert len(set(names)) == len(names)
        assert all(eligible[FEATURE_INDEX[n]] for n in names)
        shown = [magnitude[FEATURE_INDEX[n]] for n in names]
        assert shown == sorted(shown, reverse=True)
        # nothing eligible left out is larger than the smallest one shown
        rest = np.where(eligible, magnitude, 0.0)
        rest[[FEATURE_INDEX[n] for n in names]] = 0.0
        if len(names) == TOP_FACTORS:
            assert rest.max() <= shown[-1]
        else:
            assert rest.max() == 0.0
        for factor in e.top_factors:
            assert factor.contribution == c[FEATURE_INDEX[factor.feature]]
        # a silent feature that outweighs a shown reason was left out on purpose
        silenced += int(np.any(np.where(~eligible, magnitude, 0.0) > (shown[-1] if shown else 0)))
    assert silenced > 0  # the rows exercise the rule


def test_no_reason_for_coverage_without_required_skills_or_commute_to_remote_jobs():
    row = _row(
        required_skill_count=0.0,
        required_coverage=1.0,
        job_remote_policy=2.0,
        commute_fit=1.0,
        location_missing=0.0,
        distance_km=800.0,
    )
    c = _contributions(
        required_coverage=15.0, commute_fit=7.1, distance_km=-3.0, job_remote_policy=2.0
    )
    e = build_explanation(row, c, base_value=40.0)
    assert [f.feature for f in e.top_factors] == ["job_remote_policy"]
    assert e.top_factors[0].sentence == "+2.0 points: fully remote role"
    # the same values with required skills and an on-site job are reasons
    row = _row(
        required_skill_count=2.0,
        required_coverage=1.0,
        job_remote_policy=0.0,
        commute_fit=0.9,
        location_missing=0.0,
        distance_km=10.0,
    )
    e = build_explanation(row, c, base_value=40.0)
    assert [f.feature for f in e.top_factors] == ["required_coverage", "commute_fit", "distance_km"]


def test_indicators_unknowns_and_no_preference_are_never_reasons():
    row = _row(
        location_missing=1.0,
        distance_km=0.0,
        commute_fit=0.5,
        semantic_missing=1.0,
        industry_match=0.5,
        salary_missing=1.0,
        salary_iou=0.0,
    )
    c = _contributions(
        location_missing=9.0,
        distance_km=8.0,
        commute_fit=7.0,
        semantic_missing=6.0,
        semantic_similarity=5.0,
        industry_match=4.0,
        salary_iou=3.0,
        salary_missing=2.5,
        talent_years=1.0,
    )
    e = build_explanation(row, c, base_value=40.0)
    assert [f.feature for f in e.top_factors] == ["talent_years"]


def test_top_factor_sentences_state_the_value_and_the_points(explanations, rows):
    kinds: dict[str, int] = {}
    for k, e in enumerate(explanations):
        for factor in e.top_factors:
            assert not factor.feature.endswith("_missing")
            kind = check_sentence(factor.feature, rows[k], factor.contribution, factor.sentence)
            kinds[kind] = kinds.get(kind, 0) + 1
    # reasons are measurements and attributes; never an indicator, a stand-in
    # for missing data or a "no preference" value
    assert "value" in kinds, kinds
    assert set(kinds) <= {"value", "label", "indicator"}, kinds


def _row(**values: float) -> np.ndarray:
    row = np.full(N_FEATURES, 0.25, dtype=np.float32)
    for name in INDICATORS:
        row[FEATURE_INDEX[name]] = 0.0
    for name, v in values.items():
        row[FEATURE_INDEX[name]] = v
    return row


def _contributions(**values: float) -> np.ndarray:
    c = np.zeros(N_FEATURES)
    for name, v in values.items():
        c[FEATURE_INDEX[name]] = v
    return c


@pytest.mark.parametrize(
    ("row", "contributions", "expected"),
    [
        (
            _row(required_coverage=0.8),
            _contributions(required_coverage=4.24),
            "+4.2 points: covers 80% of the required skills",
        ),
        (
            _row(distance_km=1234.4),
            _contributions(distance_km=-3.06),
            "-3.1 points: lives 1,234 km from the job",
        ),
        (
            _row(salary_ratio=1.256),
            _contributions(salary_ratio=-0.04),
            "+0.0 points: asks for 1.26x the job's top salary",
        ),
        (
            _row(location_missing=1.0, distance_km=0.0),
            _contributions(distance_km=-6.0),
            "-6.0 points: distance unknown: a location is missing",
        ),
        (
            _row(location_missing=1.0, commute_fit=0.5),
            _contributions(commute_fit=2.5),
            "+2.5 points: commute not scored: a location is missing",
        ),
        (
            _row(salary_missing=1.0, salary_iou=0.0),
            _contributions(salary_iou=-5.0),
            "-5.0 points: salaries not compared: a salary range is missing",
        ),
        (
            _row(timezone_missing=1.0, timezone_overlap=0.5),
            _contributions(timezone_overlap=1.0),
            "+1.0 points: working hours not compared: a time zone is missing",
        ),
        (
            _row(location_missing=1.0),
            _contributions(location_missing=-7.25),
            "-7.2 points: location is unknown: yes",
        ),
        (
            _row(level_match=0.0),
            _contributions(level_match=-2.0),
            "-2.0 points: is at the level the job asks for: no",
        ),
        (
            _row(industry_match=0.5),
            _contributions(industry_match=1.5),
            "+1.5 points: states no industry preference",
        ),
        (
            _row(industry_match=1.0),
            _contributions(industry_match=1.5),
            "+1.5 points: wants to work in this industry: yes",
        ),
    ],
    ids=[
        "percent",
        "thousands",
        "ratio",
        "unknown-distance",
        "unknown-commute",
        "unknown-salary",
        "unknown-timezone",
        "indicator-yes",
        "indicator-no",
        "neutral",
        "not-neutral",
    ],
)
def test_factor_sentences_for_values_indicators_and_stand_ins(row, contributions, expected):
    # how a value reads; whether it is shown as a reason is tested above
    i = int(np.argmax(np.abs(contributions)))
    assert factor_sentence(i, row, float(contributions[i])) == expected
    check_sentence(FEATURE_NAMES[i], row, float(contributions[i]), expected)


def test_stand_in_values_read_as_measurements_when_data_is_present():
    # distance 0 km with a known location is a real (very short) distance
    row = _row(location_missing=0.0, distance_km=0.0)
    e = build_explanation(row, _contributions(distance_km=3.0), base_value=50.0)
    assert e.top_factors[0].sentence == "+3.0 points: lives 0 km from the job"


def test_ties_keep_registry_order_and_zero_contributions_are_no_reason():
    c = _contributions(salary_iou=-2.0, skill_jaccard=2.0)
    e = build_explanation(_row(), c, base_value=40.0)
    assert [f.feature for f in e.top_factors] == ["skill_jaccard", "salary_iou"]
    assert e.raw_score == pytest.approx(40.0)


# -- sub-scores ----------------------------------------------------------------------


def _formula(total: float) -> float:
    return 100.0 / (1.0 + math.exp(-total / SUB_SCORE_SCALE))


def test_sub_score_is_the_logistic_of_the_category_points():
    assert sub_score(0.0) == 50.0
    assert sub_score(SUB_SCORE_SCALE) == pytest.approx(73.105857863, abs=1e-6)
    assert sub_score(-SUB_SCORE_SCALE) == pytest.approx(26.894142137, abs=1e-6)
    for total in (-250.0, -37.5, -1.0, 0.25, 12.0, 400.0):
        assert sub_score(total) == pytest.approx(_formula(total), rel=1e-12)
        assert 0.0 <= sub_score(total) <= 100.0
        assert sub_score(total) + sub_score(-total) == pytest.approx(100.0)


def test_sub_scores_sum_each_categorys_contributions(explainer, explanations, rows):
    att = explainer.attributions(rows)
    members = {c: [i for i, f in enumerate(FEATURES) if f.category == c] for c in CATEGORIES}
    assert sorted(i for idx in members.values() for i in idx) == list(range(N_FEATURES))
    for k, e in enumerate(explanations):
        assert list(e.sub_scores) == list(CATEGORIES)
        for category, score in e.sub_scores.items():
            total = float(att.contributions[k, members[category]].sum())
            assert 0.0 <= score <= 100.0
            assert score == pytest.approx(_formula(total), abs=1e-9)
            assert score == pytest.approx(sub_score(total), abs=1e-12)
            assert (score > 50.0) == (total > 0.0)


def test_a_category_that_neither_helped_nor_hurt_reads_50():
    c = _contributions(required_coverage=6.0, skill_jaccard=-6.0, semantic_similarity=10.0)
    e = build_explanation(_row(), c, base_value=50.0)
    assert e.sub_scores["skills"] == 50.0  # +6 - 6
    assert e.sub_scores["salary"] == 50.0  # nothing
    assert e.sub_scores["semantic"] == pytest.approx(_formula(10.0))


# -- pydantic types ----------------------------------------------------------------------


def test_explanations_validate_and_round_trip_as_json(explanations):
    for e in explanations[:50]:
        assert isinstance(e, MatchExplanation)
        again = MatchExplanation.model_validate_json(e.model_dump_json())
        assert again == e
        assert MatchExplanation.model_validate(e.model_dump(mode="json")) == e


def test_an_empty_stored_explanation_parses():
    e = MatchExplanation.model_validate_json("{}")
    assert e.top_factors == [] and e.sub_scores == {} and e.raw_score is None


# -- empty input, bad input ----------------------------------------------------------------


def test_empty_input_gives_empty_outputs(model, explainer):
    empty = np.zeros((0, N_FEATURES), dtype=np.float32)
    att = explainer.attributions(empty)
    assert att.contributions.shape == (0, N_FEATURES)
    assert att.raw_scores.shape == (0,)
    assert att.base_value == pytest.approx(explainer.base_value())
    assert explainer.explain(empty) == []
    assert model.predict(empty).shape == (0,)


@pytest.mark.parametrize("shape", [(N_FEATURES,), (2, N_FEATURES - 1), (0, N_FEATURES + 1)])
def test_wrong_shapes_are_refused(explainer, shape):
    with pytest.raises(ValueError, match="must be"):
        explainer.attributions(np.zeros(shape, dtype=np.float32))
    with pytest.raises(ValueError, match="must be"):
        explainer.explain(np.zeros(shape, dtype=np.float32))


def test_a_rows_explanation_does_not_depend_on_the_rows_explained_with_it(explainer, rows):
    # the batch path explains many pairs at once, the per-entity path a few:
    # both must store the same explanation of a pair, to the last bit
    together = explainer.explain(rows)
    for k in range(len(rows)):
        assert explainer.explain(rows[k : k + 1])[0] == together[k]
    for k in range(0, len(rows), 5):
        assert explainer.explain(rows[k : k + 5]) == together[k : k + 5]


def test_explain_for_storage_is_explain_with_the_contributions_apart(explainer, rows):
    full = explainer.explain(rows)
    stored, contributions = explainer.explain_for_storage(rows)
    assert contributions.shape == (len(rows), N_FEATURES)
    for k, e in enumerate(full):
        assert stored[k].contributions == {}
        assert stored[k] == e.model_copy(update={"contributions": {}})
        assert list(e.contributions.values()) == contributions[k].tolist()


@pytest.mark.parametrize("width", [1, 2, 7, 8, 9, 16, 17, 36, 100])
def test_row_sums_are_numpys_sums_of_each_row_alone(width):
    # stored explanations were summed one row at a time; a pair left
    # unchanged keeps its row, so the batch must sum the very same way
    rng = np.random.default_rng(width)
    m = rng.standard_normal((500, width)) * 10 ** rng.uniform(-6, 3, (500, width))
    columns = np.arange(width)
    expected = [m[k, columns].sum() for k in range(len(m))]
    assert _row_sums(m, columns).tolist() == [float(v) for v in expected]
    some = rng.permutation(width)[: max(1, width // 2)]
    assert _row_sums(m, some).tolist() == [float(m[k, some].sum()) for k in range(len(m))]


def test_raw_score_is_the_base_plus_numpys_sum_of_the_row(explainer, rows):
    att = explainer.attributions(rows)
    for k, e in enumerate(explainer.explain(rows)):
        assert e.raw_score == float(att.base_value + att.contributions[k].sum())
