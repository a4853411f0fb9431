"""Initial training on synthetic pairs: honest validation, baselines, registry."""

from __future__ import annotations

import numpy as np
import psycopg
import pytest

from matching.scoring.registry import list_models, load_active
from matching.synthetic.seed import seed
from matching.training.initial import (
    MEAN_MARGIN,
    RANDOM_MARGIN,
    grouped_split,
    synthetic_pairs,
    train_initial_model,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def seeded(db_url):
    seed(db_url, seed=3, n_talents=1500, n_jobs=300)
    return db_url


def test_pairs_span_the_score_range(seeded):
    with psycopg.connect(seeded) as conn:
        pairs = synthetic_pairs(conn, n_pairs=2000, seed=1)
    assert pairs.x.shape == (2000, pairs.x.shape[1])
    assert np.isfinite(pairs.x).all()
    # not mostly zeros: both good and poor matches are present
    assert np.mean(pairs.y < 30) > 0.15
    assert np.mean(pairs.y > 55) > 0.10
    assert pairs.y.min() >= 0 and pairs.y.max() <= 100


def test_grouped_split_keeps_talents_on_one_side():
    groups = np.repeat(np.arange(50), 4)
    rest, held = grouped_split(groups, 0.2, np.random.default_rng(0))
    assert set(groups[rest]).isdisjoint(groups[held])
    assert len(rest) + len(held) == len(groups)
    assert len(set(groups[held])) == 10


def test_initial_training_beats_baselines_and_activates(seeded):
    messages: list[str] = []
    report = train_initial_model(seeded, n_pairs=3000, folds=3, seed=7, progress=messages.append)
    m = report.metrics
    assert report.activated
    assert m["holdout_rmse"] < (1 - RANDOM_MARGIN) * m["baseline_random_rmse"]
    assert m["holdout_rmse"] < (1 - MEAN_MARGIN) * m["baseline_mean_rmse"]
    assert m["n_train"] + m["n_holdout"] == m["n_pairs"] == 3000
    # the holdout is not the training data: its error cannot be below the label noise
    assert m["holdout_rmse"] > 2.0
    assert len(report.cv) >= 2 and all(c["cv_rmse"] > 0 for c in report.cv)
    assert any("holdout" in msg for msg in messages)

    with psycopg.connect(seeded) as conn:
        active = load_active(conn)
        assert active is not None and active.version == report.version
        assert active.metadata.metrics["holdout_rmse"] == pytest.approx(m["holdout_rmse"])
        run = conn.execute(
            "select trigger, status, sample_count, candidate_version, details ? 'cv'"
            " from matching.training_runs order by id desc limit 1"
        ).fetchone()
        assert run == ("synthetic", "activated", 3000, report.version, True)
        log = conn.execute(
            "select version, reason from matching.model_activations order by id desc limit 1"
        ).fetchone()
        assert log == (report.version, "training")
        assert [i.version for i in list_models(conn) if i.is_active] == [report.version]


def test_training_needs_a_marketplace(blank_db_url, test_settings):
    from matching.db.migrate import migrate

    migrate(blank_db_url, test_settings)
    with pytest.raises(ValueError, match="matching seed"):
        train_initial_model(blank_db_url, n_pairs=500, folds=2)
