"""Unit tests of matching.model: 0-100 scores, determinism, text round trip,
refusal of foreign models, no pickle, importances, input validation. No database.

The training data is synthetic and small (2,000 rows): the target is a known
function of three columns, so which features matter is known in advance.
"""

from __future__ import annotations

import ast
import json
from dataclasses import replace
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest

from matching.features.extraction import FEATURE_INDEX, FEATURE_NAMES, N_FEATURES
from matching.scoring.model import MatchingModel, ModelMetadata, ModelMismatchError

ROOT = Path(__file__).resolve().parents[2]

# The synthetic target: y = 100 * (0.55 a + 0.3 b + 0.15 c) + noise, clipped to 0-100.
# Uniform columns, so the variance each explains is in the ratio 0.55^2 : 0.3^2 : 0.15^2.
A, B, C = "required_coverage", "semantic_similarity", "salary_iou"
WEIGHTS = {A: 0.55, B: 0.3, C: 0.15}


def synthetic(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.random((n, N_FEATURES)).astype(np.float32)
    signal = sum(w * x[:, FEATURE_INDEX[name]].astype(np.float64) for name, w in WEIGHTS.items())
    y = np.clip(100.0 * signal + rng.normal(0.0, 2.0, n), 0.0, 100.0)
    return x, y


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    return synthetic(2000, seed=7)


@pytest.fixture(scope="module")
def model(data) -> MatchingModel:
    x, y = data
    return MatchingModel.train(x, y, version="test-1", seed=42)


@pytest.fixture(scope="module")
def holdout() -> np.ndarray:
    return synthetic(300, seed=8)[0]


def extreme_inputs() -> np.ndarray:
    rng = np.random.default_rng(3)
    rows = [
        np.zeros(N_FEATURES),
        np.ones(N_FEATURES),
        np.full(N_FEATURES, 1e6),
        np.full(N_FEATURES, -1e6),
        np.full(N_FEATURES, -1.0),
        np.full(N_FEATURES, np.finfo(np.float32).max),
        np.full(N_FEATURES, np.nan),  # LightGBM reads NaN as "missing"
        *(rng.normal(0.0, 1e3, N_FEATURES) for _ in range(20)),
    ]
    return np.array(rows, dtype=np.float32)


# -- scores on 0-100 ---------------------------------------------------------


def test_predict_is_within_0_100_on_ordinary_and_extreme_inputs(model, holdout):
    for x in (holdout, extreme_inputs()):
        scores = model.predict(x)
        assert scores.shape == (len(x),)
        assert scores.dtype == np.float64
        assert np.all(np.isfinite(scores))
        assert np.all((scores >= 0.0) & (scores <= 100.0))


def test_predict_is_the_clipped_raw_output_which_may_leave_0_100(data, holdout):
    # Labels outside 0-100 (the trainer only asks for finite ones) give a model
    # whose raw output certainly leaves the range: predict() must clip it.
    x, _ = data
    y = 300.0 * x[:, FEATURE_INDEX[A]].astype(np.float64) - 100.0  # -100 .. 200
    wide = MatchingModel.train(x, y, version="wide", seed=1)
    for rows in (holdout, extreme_inputs()):
        raw = wide.predict_raw(rows)
        np.testing.assert_array_equal(wide.predict(rows), np.clip(raw, 0.0, 100.0))
    raw = wide.predict_raw(holdout)
    assert raw.min() < -50.0 and raw.max() > 150.0
    scores = wide.predict(holdout)
    assert scores.min() == 0.0 and scores.max() == 100.0


def test_the_model_learned_the_target(model, holdout):
    signal = 100.0 * sum(
        w * holdout[:, FEATURE_INDEX[name]].astype(np.float64) for name, w in WEIGHTS.items()
    )
    rmse = float(np.sqrt(np.mean((model.predict(holdout) - signal) ** 2)))
    assert rmse < 6.0, rmse
    assert 1 <= model.n_trees <= 150
    assert model.metadata.params["best_iteration"] == model.n_trees


def test_float64_and_float32_inputs_score_alike(model, holdout):
    np.testing.assert_array_equal(model.predict(holdout), model.predict(holdout.astype(np.float64)))


def test_empty_input_gives_empty_scores(model):
    empty = np.zeros((0, N_FEATURES), dtype=np.float32)
    assert model.predict(empty).shape == (0,)
    assert model.predict_raw(empty).shape == (0,)


@pytest.mark.parametrize("shape", [(N_FEATURES,), (3, N_FEATURES - 1), (3, N_FEATURES + 1)])
def test_predict_refuses_the_wrong_shape(model, shape):
    with pytest.raises(ValueError, match="must be"):
        model.predict(np.zeros(shape, dtype=np.float32))


# -- determinism ---------------------------------------------------------------


def test_training_is_deterministic_for_a_seed(model, data, holdout):
    x, y = data
    again = MatchingModel.train(x, y, version="test-1", seed=42)
    assert np.array_equal(again.predict_raw(holdout), model.predict_raw(holdout))
    assert again.to_text() == model.to_text()
    assert again.metadata.params == model.metadata.params


def test_another_seed_gives_another_model(model, data, holdout):
    x, y = data
    other = MatchingModel.train(x, y, version="test-1", seed=43)
    assert other.to_text() != model.to_text()
    assert not np.array_equal(other.predict_raw(holdout), model.predict_raw(holdout))


# -- text round trip -----------------------------------------------------------


def test_text_round_trip_predicts_identically(model, holdout):
    text = model.to_text()
    assert text.startswith("tree")
    # the metadata travels as JSON (a jsonb column), so go through JSON text
    meta = json.loads(json.dumps(model.metadata.to_json()))
    loaded = MatchingModel.from_text(text, meta)
    for rows in (holdout, extreme_inputs()):
        assert np.array_equal(loaded.predict_raw(rows), model.predict_raw(rows))
    assert loaded.to_text() == text
    assert loaded.metadata == model.metadata
    assert loaded.version == "test-1"
    assert loaded.n_trees == model.n_trees


def test_metadata_round_trips_through_json(model):
    meta = model.metadata
    assert meta.feature_names == tuple(FEATURE_NAMES)
    assert meta.training_samples == 2000
    assert set(meta.library_versions) >= {"lightgbm", "numpy", "python"}
    assert meta.library_versions["lightgbm"] == lgb.__version__
    assert meta.trained_at  # ISO timestamp
    enriched = replace(meta, metrics={"rmse": 1.5, "ndcg@10": 0.9})
    assert ModelMetadata.from_json(json.loads(json.dumps(enriched.to_json()))) == enriched


# -- foreign models are refused -------------------------------------------------


@pytest.mark.parametrize(
    "names",
    [
        list(reversed(FEATURE_NAMES)),
        list(FEATURE_NAMES[:-1]),
        [*FEATURE_NAMES, "extra_feature"],
        [*FEATURE_NAMES[:-1], "renamed_feature"],
    ],
    ids=["reordered", "one-missing", "one-extra", "one-renamed"],
)
def test_metadata_with_another_feature_list_is_refused(model, names):
    meta = {**model.metadata.to_json(), "feature_names": names}
    with pytest.raises(ModelMismatchError, match="feature registry"):
        MatchingModel.from_text(model.to_text(), meta)
    with pytest.raises(ModelMismatchError):
        MatchingModel(model.booster, ModelMetadata.from_json(meta))


def _foreign_booster(names: list[str]) -> lgb.Booster:
    x, y = synthetic(200, seed=11)
    x = x[:, : len(names)]
    params = {"objective": "regression", "verbosity": -1, "num_threads": 1, "seed": 0}
    return lgb.train(params, lgb.Dataset(x, y, feature_name=names), num_boost_round=3)


@pytest.mark.parametrize(
    "names",
    [
        [f"f{i}" for i in range(N_FEATURES)],
        list(reversed(FEATURE_NAMES)),
        list(FEATURE_NAMES[:-2]),
    ],
    ids=["generic-names", "reordered", "fewer-columns"],
)
def test_a_booster_trained_on_other_features_is_refused(model, names):
    booster = _foreign_booster(names)
    # even with metadata that claims the registry's features
    with pytest.raises(ModelMismatchError, match="feature registry"):
        MatchingModel(booster, model.metadata)
    with pytest.raises(ModelMismatchError):
        MatchingModel.from_text(booster.model_to_string(), model.metadata.to_json())


@pytest.mark.parametrize(
    "text",
    ["", "  tree\n", "{}", "gbdt\nversion=v4\n", "TREE\n", "\ntree\n"],
    ids=["empty", "leading-space", "json", "other-header", "upper-case", "leading-newline"],
)
def test_text_that_is_not_a_lightgbm_model_is_refused(model, text):
    with pytest.raises(ModelMismatchError, match="not a LightGBM text model"):
        MatchingModel.from_text(text, model.metadata.to_json())


def test_a_model_text_that_starts_with_tree_but_is_corrupt_raises(model):
    with pytest.raises(lgb.basic.LightGBMError):
        MatchingModel.from_text("tree\nthis is not a model", model.metadata.to_json())


# -- no pickle -------------------------------------------------------------------

BANNED_MODULES = {
    "pickle",
    "cPickle",
    "_pickle",
    "joblib",
    "dill",
    "cloudpickle",
    "shelve",
    "marshal",
}


@pytest.mark.parametrize("module", ["matching/scoring/model.py", "matching/scoring/registry.py"])
def test_models_are_never_pickled(module):
    source = (ROOT / module).read_text()
    tree = ast.parse(source)
    imported: set[str] = set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
        elif isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            # importlib.import_module("pickle") / __import__("pickle")
            assert node.value not in BANNED_MODULES, f"{module} names {node.value!r}"
    assert imported.isdisjoint(BANNED_MODULES), imported & BANNED_MODULES
    assert names.isdisjoint(BANNED_MODULES | {"__import__"})
    # grep-style, for anything the AST walk could miss (e.g. exec'd strings)
    for line in source.splitlines():
        words = line.replace(",", " ").split()
        if words[:1] in (["import"], ["from"]):
            assert not set(w.split(".")[0] for w in words[1:]) & BANNED_MODULES, line


# -- feature importance ----------------------------------------------------------


def test_feature_importance_covers_every_feature(model):
    importance = model.feature_importance()
    assert list(importance) == list(FEATURE_NAMES)
    for name, values in importance.items():
        assert set(values) == {"gain", "split"}, name
        assert values["gain"] >= 0.0 and values["split"] >= 0.0, name
        assert float(values["split"]).is_integer()
    assert sum(v["split"] for v in importance.values()) > 0


def test_the_target_columns_rank_highest_by_gain(model):
    importance = model.feature_importance()
    by_gain = sorted(importance, key=lambda name: -importance[name]["gain"])
    # weights 0.55 > 0.3 > 0.15 -> explained variance in the same order
    assert by_gain[:3] == [A, B, C]
    total = sum(v["gain"] for v in importance.values())
    assert sum(importance[n]["gain"] for n in (A, B, C)) / total > 0.95


# -- training validation -------------------------------------------------------


@pytest.mark.parametrize(
    ("x_shape", "y_len", "message"),
    [
        ((100,), 100, "must be"),
        ((100, N_FEATURES - 1), 100, "must be"),
        ((100, N_FEATURES + 1), 100, "must be"),
        ((100, N_FEATURES, 1), 100, "must be"),
        ((100, N_FEATURES), 99, "rows"),
        ((19, N_FEATURES), 19, "at least 20"),
        ((0, N_FEATURES), 0, "at least 20"),
    ],
    ids=[
        "1-d",
        "too-few-columns",
        "too-many-columns",
        "3-d",
        "length-mismatch",
        "19-rows",
        "empty",
    ],
)
def test_train_refuses_bad_shapes(x_shape, y_len, message):
    x = np.zeros(x_shape, dtype=np.float32)
    y = np.linspace(0.0, 100.0, y_len)
    with pytest.raises(ValueError, match=message):
        MatchingModel.train(x, y, version="bad")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_train_refuses_non_finite_labels(data, bad):
    x, y = data
    y = y[:100].copy()
    y[17] = bad
    with pytest.raises(ValueError, match="finite"):
        MatchingModel.train(x[:100], y, version="bad")


def test_train_accepts_the_minimum_of_20_rows(data):
    x, y = data
    small = MatchingModel.train(x[:20], y[:20], version="small", params={"min_data_in_leaf": 2})
    assert small.metadata.training_samples == 20
    assert np.all((small.predict(x[:50]) >= 0.0) & (small.predict(x[:50]) <= 100.0))


def test_train_params_override_the_defaults(data):
    x, y = data
    m = MatchingModel.train(x, y, version="p", params={"num_boost_round": 5, "num_leaves": 4})
    assert m.n_trees <= 5
    assert m.metadata.params["num_leaves"] == 4
    assert m.metadata.params["num_boost_round"] == 5


# -- with_metrics ------------------------------------------------------------------


def test_with_metrics_keeps_predictions_and_adds_metrics(model, holdout):
    first = model.with_metrics({"rmse": 3.2})
    second = first.with_metrics({"ndcg@10": 0.81, "rmse": 3.1})
    assert model.metadata.metrics == {}  # the original is untouched
    assert first.metadata.metrics == {"rmse": 3.2}
    assert second.metadata.metrics == {"rmse": 3.1, "ndcg@10": 0.81}
    assert np.array_equal(second.predict_raw(holdout), model.predict_raw(holdout))
    assert second.to_text() == model.to_text()
    for field in ("version", "feature_names", "params", "training_samples", "trained_at"):
        assert getattr(second.metadata, field) == getattr(model.metadata, field), field
    loaded = MatchingModel.from_text(second.to_text(), second.metadata.to_json())
    assert loaded.metadata.metrics == {"rmse": 3.1, "ndcg@10": 0.81}
