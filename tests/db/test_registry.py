"""Integration tests of the model registry: matching.model_versions,
matching.activate_model / rollback_model / model_activations, and
matching.registry (register, load, ActiveModel) on a real PostgreSQL.

Tests that commit (threads, several connections) use `fresh_db_url`; the
others run in the rolled-back `conn`.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import psycopg
import pytest
from psycopg import errors
from psycopg.types.json import Jsonb

from matching.features.extraction import FEATURE_INDEX, FEATURE_NAMES, N_FEATURES
from matching.scoring import registry
from matching.scoring.model import MatchingModel, ModelMismatchError
from matching.scoring.registry import ActiveModel

pytestmark = pytest.mark.integration


def synthetic(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.random((n, N_FEATURES)).astype(np.float32)
    y = 100.0 * (
        0.6 * x[:, FEATURE_INDEX["required_coverage"]]
        + 0.4 * x[:, FEATURE_INDEX["semantic_similarity"]]
    )
    return x, np.clip(y + rng.normal(0.0, 2.0, n), 0.0, 100.0)


@pytest.fixture(scope="module")
def trained() -> tuple[MatchingModel, MatchingModel]:
    """Two different models (different data and seeds)."""
    x1, y1 = synthetic(1000, seed=1)
    x2, y2 = synthetic(1000, seed=2)
    return (
        MatchingModel.train(x1, y1, version="base-a", seed=1).with_metrics({"rmse": 2.5}),
        MatchingModel.train(x2, y2, version="base-b", seed=2).with_metrics({"rmse": 2.7}),
    )


@pytest.fixture(scope="module")
def probe() -> np.ndarray:
    return synthetic(50, seed=3)[0]


@pytest.fixture
def make(trained) -> Callable[[str, int], MatchingModel]:
    """A model under a new version name, built from trained model 0 or 1."""

    def build(version: str, which: int = 0) -> MatchingModel:
        base = trained[which]
        return MatchingModel(base.booster, replace(base.metadata, version=version))

    return build


def active_versions(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute("select version from matching.model_versions where is_active").fetchall()
    return [r[0] for r in rows]


def activations(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute(
        "select version, previous_version, activated_by, reason"
        " from matching.model_activations order by id"
    ).fetchall()


def sqlstate_of(conn: psycopg.Connection, sql: str, params: tuple = ()) -> str | None:
    """Run sql in a savepoint; the SQLSTATE it failed with (None if it did not)."""
    try:
        with conn.transaction():
            conn.execute(sql, params)
    except psycopg.Error as exc:
        return exc.sqlstate
    return None


def as_api_user(conn: psycopg.Connection, role: str, claims: dict | None) -> None:
    """What PostgREST does: SET ROLE plus the JWT claims, for this transaction."""
    conn.execute(f"set local role {role}")
    if claims is not None:
        conn.execute("select set_config('request.jwt.claims', %s, true)", (json.dumps(claims),))


def register_corrupt(conn: psycopg.Connection, version: str, good: MatchingModel) -> None:
    """A row whose text passes the 'starts with tree' check but is no model."""
    meta = {**good.metadata.to_json(), "version": version}
    conn.execute(
        "insert into matching.model_versions (version, model_text, feature_names, metadata,"
        " training_samples) values (%s, %s, %s, %s, 1)",
        (version, "tree\nthis is not a model", list(FEATURE_NAMES), Jsonb(meta)),
    )


# -- register + activate -------------------------------------------------------------


def test_register_stores_an_inactive_model(conn, make, probe):
    m = make("reg-1")
    registry.register(conn, m)
    row = conn.execute(
        "select is_active, activated_at, feature_names, training_samples, metrics, params,"
        " metadata, model_text from matching.model_versions where version = 'reg-1'"
    ).fetchone()
    assert row[0] is False and row[1] is None
    assert row[2] == list(FEATURE_NAMES)
    assert row[3] == 1000
    assert row[4] == {"rmse": 2.5}
    assert row[5] == json.loads(json.dumps(m.metadata.params))
    assert row[6] == json.loads(json.dumps(m.metadata.to_json()))
    assert row[7] == m.to_text()
    assert registry.active_version(conn) is None
    assert registry.load_active(conn) is None


def test_a_version_is_registered_once(conn, make):
    registry.register(conn, make("dup"))
    with pytest.raises(errors.UniqueViolation), conn.transaction():
        registry.register(conn, make("dup", 1))


def test_a_badly_named_version_is_refused(conn, make):
    with pytest.raises(errors.CheckViolation, match="version_format"), conn.transaction():
        registry.register(conn, make("not a version!"))


def test_activate_keeps_exactly_one_active_and_logs_each_change(conn, make):
    who = conn.execute("select session_user").fetchone()[0]
    registry.register(conn, make("act-a"))
    registry.register(conn, make("act-b", 1))

    assert registry.activate(conn, "act-a") == "act-a"
    assert active_versions(conn) == ["act-a"]
    assert registry.activate(conn, "act-b", reason="training") == "act-b"
    assert active_versions(conn) == ["act-b"]
    assert activations(conn) == [
        ("act-a", None, who, "activate"),
        ("act-b", "act-a", who, "training"),
    ]
    flags = dict(
        conn.execute(
            "select version, activated_at is not null from matching.model_versions"
        ).fetchall()
    )
    assert flags == {"act-a": True, "act-b": True}  # activated_at is the last activation


def test_activating_the_active_version_is_a_noop(conn, make):
    registry.register(conn, make("noop-a"))
    registry.activate(conn, "noop-a")
    before = conn.execute(
        "select activated_at from matching.model_versions where version = 'noop-a'"
    ).fetchone()
    assert registry.activate(conn, "noop-a") == "noop-a"
    assert registry.activate(conn, "noop-a", reason="training") == "noop-a"
    assert len(activations(conn)) == 1
    assert active_versions(conn) == ["noop-a"]
    after = conn.execute(
        "select activated_at from matching.model_versions where version = 'noop-a'"
    ).fetchone()
    assert after == before


def test_activation_notifies_listeners(fresh_db_url, make):
    with psycopg.connect(fresh_db_url, autocommit=True) as listener:
        listener.execute("listen matching_model_activated")
        with psycopg.connect(fresh_db_url, autocommit=True) as admin:
            registry.register(admin, make("note-a"))
            registry.activate(admin, "note-a")
        notes = list(listener.notifies(timeout=5.0, stop_after=1))
    assert [(n.channel, n.payload) for n in notes] == [("matching_model_activated", "note-a")]


def test_service_role_may_activate_and_is_logged_as_itself(conn, make):
    registry.register(conn, make("svc-a"))
    as_api_user(conn, "service_role", None)
    assert registry.activate(conn, "svc-a") == "svc-a"
    conn.execute("reset role")
    assert activations(conn) == [("svc-a", None, "service_role", "activate")]


# -- concurrency ---------------------------------------------------------------------


def test_concurrent_activations_all_succeed_and_leave_one_active(fresh_db_url, make):
    n = 8
    versions = [f"conc-{i}" for i in range(n)]
    with psycopg.connect(fresh_db_url, autocommit=True) as setup:
        for i, v in enumerate(versions):
            registry.register(setup, make(v, i % 2))
    barrier = threading.Barrier(n)
    results: dict[str, str] = {}
    failures: list[BaseException] = []

    def activate(version: str) -> None:
        try:
            with psycopg.connect(fresh_db_url) as conn:
                barrier.wait(timeout=30)
                out = conn.execute("select matching.activate_model(%s)", (version,)).fetchone()
                conn.commit()
                results[version] = out[0]
        except BaseException as exc:  # reported below, in the main thread
            failures.append(exc)

    threads = [threading.Thread(target=activate, args=(v,)) for v in versions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert failures == []
    assert results == {v: v for v in versions}
    with psycopg.connect(fresh_db_url) as conn:
        active = active_versions(conn)
        log = activations(conn)
    assert len(active) == 1
    assert sorted(row[0] for row in log) == versions  # each one logged once
    # the log is a chain: each activation's "previous" is the one logged before it
    assert log[0][1] is None
    assert [row[1] for row in log[1:]] == [row[0] for row in log[:-1]]
    assert log[-1][0] == active[0]


# -- rollback --------------------------------------------------------------------------


def test_rollback_reactivates_the_previous_version(conn, make):
    registry.register(conn, make("rb-a"))
    registry.register(conn, make("rb-b", 1))
    registry.activate(conn, "rb-a")
    registry.activate(conn, "rb-b")
    assert registry.rollback(conn) == "rb-a"
    assert active_versions(conn) == ["rb-a"]
    assert activations(conn)[-1][:2] == ("rb-a", "rb-b")
    assert activations(conn)[-1][3] == "rollback"
    # rolling back a rollback goes forward again
    assert registry.rollback(conn) == "rb-b"
    assert active_versions(conn) == ["rb-b"]
    assert len(activations(conn)) == 4


def test_rollback_with_a_single_activation_is_mt404(conn, make):
    assert sqlstate_of(conn, "select matching.rollback_model()") == "MT404"  # none at all
    registry.register(conn, make("rb-only"))
    registry.activate(conn, "rb-only")
    assert sqlstate_of(conn, "select matching.rollback_model()") == "MT404"
    assert active_versions(conn) == ["rb-only"]
    assert len(activations(conn)) == 1


def test_rollback_follows_commit_order_not_transaction_start(fresh_db_url, make):
    with psycopg.connect(fresh_db_url, autocommit=True) as admin:
        registry.register(admin, make("ts-a"))
        registry.register(admin, make("ts-b", 1))
        with psycopg.connect(fresh_db_url) as slow:
            slow.execute("select 1")  # a transaction (e.g. a training run) begins here
            time.sleep(0.01)
            registry.activate(admin, "ts-a")  # committed: a (first activation)
            registry.activate(admin, "ts-b")  # committed: a -> b
            registry.activate(slow, "ts-a", reason="training")  # b -> a, committed last
            slow.commit()
        assert [row[:2] for row in activations(admin)] == [
            ("ts-a", None),
            ("ts-b", "ts-a"),
            ("ts-a", "ts-b"),
        ]
        # the version active before the current activation of ts-a was ts-b
        assert registry.rollback(admin) == "ts-b"


# -- error codes and privileges ----------------------------------------------------------


def test_error_codes_are_stable(conn, make):
    registry.register(conn, make("err-a"))
    assert sqlstate_of(conn, "select matching.activate_model('no-such-version')") == "MT404"
    assert sqlstate_of(conn, "select matching.activate_model(null)") == "MT001"
    assert sqlstate_of(conn, "select matching.activate_model(null, 'activate')") == "MT001"
    for reason in ("promote", "", None):
        sql = "select matching.activate_model('err-a', %s)"
        assert sqlstate_of(conn, sql, (reason,)) == "MT006", reason
    assert registry.activate(conn, "err-a") == "err-a"


def test_registry_helpers_raise_the_database_errors(conn):
    with pytest.raises(psycopg.Error) as exc, conn.transaction():
        registry.activate(conn, "missing-version")
    assert exc.value.sqlstate == "MT404"
    with pytest.raises(psycopg.Error) as exc, conn.transaction():
        registry.rollback(conn)
    assert exc.value.sqlstate == "MT404"


USER = "5a1c3a6e-0000-4000-8000-000000000001"
NON_ADMINS = [
    pytest.param("authenticated", {"sub": USER, "role": "authenticated"}, id="user"),
    pytest.param("authenticated", {"sub": USER, "app_metadata": {"role": "user"}}, id="user-role"),
    pytest.param(
        "authenticated", {"sub": USER, "user_metadata": {"role": "admin"}}, id="self-made"
    ),
    pytest.param("authenticated", None, id="user-no-claims"),
    pytest.param("anon", {"role": "anon"}, id="anon"),
    pytest.param("anon", {"role": "anon", "app_metadata": {"role": "admin"}}, id="anon-admin"),
    pytest.param("anon", None, id="anon-no-claims"),
]


@pytest.mark.parametrize(("role", "claims"), NON_ADMINS)
@pytest.mark.parametrize(
    "sql",
    ["select matching.activate_model('priv-b')", "select matching.rollback_model()"],
    ids=["activate", "rollback"],
)
def test_api_callers_who_are_not_admins_get_42501(conn, make, role, claims, sql):
    registry.register(conn, make("priv-a"))
    registry.register(conn, make("priv-b", 1))
    registry.activate(conn, "priv-a")
    with pytest.raises(errors.InsufficientPrivilege) as exc, conn.transaction():
        as_api_user(conn, role, claims)
        conn.execute(sql)
    assert exc.value.sqlstate == "42501"
    assert active_versions(conn) == ["priv-a"]
    assert len(activations(conn)) == 1


def test_an_admin_jwt_may_activate(conn, make):
    # through the API entry point: `matching` itself is not exposed
    registry.register(conn, make("adm-a"))
    sub = str(uuid.uuid4())
    with conn.transaction():
        as_api_user(conn, "authenticated", {"sub": sub, "app_metadata": {"role": "admin"}})
        conn.execute("select public.activate_model('adm-a')")
    conn.execute("reset role")  # `set local` outlives the savepoint
    assert activations(conn) == [("adm-a", None, f"admin:{sub}", "activate")]


# -- list, load ---------------------------------------------------------------------------


def test_list_models_and_load_return_what_was_registered(conn, make, probe):
    a, b = make("list-a"), make("list-b", 1).with_metrics({"ndcg@10": 0.5})
    registry.register(conn, a)
    registry.register(conn, b)
    registry.activate(conn, "list-b")

    infos = registry.list_models(conn)
    assert [i.version for i in infos] == ["list-b", "list-a"]  # newest first
    by_version = {i.version: i for i in infos}
    assert by_version["list-b"].is_active and not by_version["list-a"].is_active
    assert by_version["list-b"].activated_at is not None
    assert by_version["list-a"].activated_at is None
    assert by_version["list-a"].training_samples == 1000
    assert by_version["list-a"].metrics == {"rmse": 2.5}
    assert by_version["list-b"].metrics == {"rmse": 2.7, "ndcg@10": 0.5}
    assert by_version["list-a"].trained_at.tzinfo is not None

    assert registry.active_version(conn) == "list-b"
    for original in (a, b):
        loaded = registry.load(conn, original.version)
        assert loaded.metadata == original.metadata
        assert loaded.to_text() == original.to_text()
        assert np.array_equal(loaded.predict_raw(probe), original.predict_raw(probe))
    active = registry.load_active(conn)
    assert active is not None and active.version == "list-b"
    assert np.array_equal(active.predict(probe), b.predict(probe))
    assert not np.array_equal(active.predict(probe), a.predict(probe))


def test_load_of_an_unknown_version_is_a_lookup_error(conn):
    with pytest.raises(LookupError, match="no-such"):
        registry.load(conn, "no-such")


def test_load_refuses_a_stored_model_for_other_features(conn, make):
    m = make("foreign")
    registry.register(conn, m)
    conn.execute(
        "update matching.model_versions set metadata = jsonb_set(metadata, '{feature_names}',"
        " '[\"a\", \"b\"]') where version = 'foreign'"
    )
    with pytest.raises(ModelMismatchError):
        registry.load(conn, "foreign")


# -- ActiveModel -------------------------------------------------------------------------


def test_active_model_follows_activations_and_survives_a_corrupt_one(fresh_db_url, make, probe):
    served = ActiveModel()
    with (
        psycopg.connect(fresh_db_url, autocommit=True) as admin,
        psycopg.connect(fresh_db_url, autocommit=True) as worker,
    ):
        registry.register(admin, make("am-a"))
        registry.register(admin, make("am-b", 1))
        registry.register(admin, make("am-c"))
        register_corrupt(admin, "am-bad", make("x"))

        assert served.get(worker) is None  # nothing active yet
        assert served.model is None

        registry.activate(admin, "am-a")
        first = served.get(worker)
        assert first is not None and first.version == "am-a"
        assert served.get(worker) is first  # unchanged: no reload

        registry.activate(admin, "am-b")
        second = served.get(worker)
        assert second is not None and second.version == "am-b"
        assert np.array_equal(second.predict(probe), make("am-b", 1).predict(probe))

        registry.activate(admin, "am-bad")
        for _ in range(2):  # the failure is remembered, not retried on every call
            kept = served.get(worker)
            assert kept is second and kept.version == "am-b"
        assert registry.active_version(worker) == "am-bad"

        registry.activate(admin, "am-c")
        third = served.get(worker)
        assert third is not None and third.version == "am-c"
        assert served.model is third


def test_active_model_keeps_serving_through_a_model_for_other_features(conn, make):
    served = ActiveModel()
    registry.register(conn, make("fm-good"))
    registry.activate(conn, "fm-good")
    assert served.get(conn).version == "fm-good"
    registry.register(conn, make("fm-other"))
    conn.execute(
        "update matching.model_versions set metadata = jsonb_set(metadata, '{feature_names}',"
        " '[\"a\"]') where version = 'fm-other'"
    )
    registry.activate(conn, "fm-other")
    assert served.get(conn).version == "fm-good"


def test_active_model_with_only_a_corrupt_active_version_serves_nothing(conn, make):
    served = ActiveModel()
    register_corrupt(conn, "only-bad", make("x"))
    registry.activate(conn, "only-bad")
    assert served.get(conn) is None
    assert served.get(conn) is None


def test_active_model_serves_nothing_once_no_version_is_active(conn, make):
    served = ActiveModel()
    registry.register(conn, make("gone"))
    registry.activate(conn, "gone")
    assert served.get(conn).version == "gone"
    conn.execute("update matching.model_versions set is_active = false")
    assert served.get(conn) is None
    assert served.model is None


def _pending_rematch_all(conn) -> int:
    return conn.execute(
        "select count(*) from procrastinate.procrastinate_jobs"
        " where task_name = 'matching:rematch_all' and status = 'todo'"
    ).fetchone()[0]


def test_activation_re_ranks_stored_matches_but_not_an_empty_market(conn, make):
    registry.register(conn, make("rr-a"))
    registry.register(conn, make("rr-b"))
    assert conn.execute("select count(*) from public.matches").fetchone()[0] == 0
    registry.activate(conn, "rr-a")
    # a fresh install: the backfill matches everyone, nothing to re-rank yet
    assert _pending_rematch_all(conn) == 0
    conn.execute("insert into public.skills (name, category) values ('rr', 'software')")
    company = conn.execute(
        "insert into public.companies (name, industry, size) values ('RR', 'software', 'small')"
        " returning id"
    ).fetchone()[0]
    job = conn.execute(
        "insert into public.jobs (company_id, title, experience_level, remote_policy, status)"
        " values (%s, 'Engineer', 'mid', 'remote', 'open') returning id",
        (company,),
    ).fetchone()[0]
    talent = conn.execute(
        "insert into public.talents (headline, experience_level, years_experience)"
        " values ('Engineer', 'mid', 3) returning id"
    ).fetchone()[0]
    conn.execute(
        "insert into public.matches (talent_id, job_id, score, source, model_version)"
        " values (%s, %s, 50, 'ml', 'rr-a')",
        (talent, job),
    )
    registry.activate(conn, "rr-b")
    assert _pending_rematch_all(conn) == 1
    registry.rollback(conn)  # coalesces with the pending re-rank
    assert _pending_rematch_all(conn) == 1
