"""No lost edit, and no poison spreading: rematch marks, reconciliation, the
pending-edit health figures and poison-tolerant loading, against a real
database (no worker: the worker-level faults are in test_worker_resilience).
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from matching.pipeline.loaders import BadEntityDataError, load_fx_rates, load_jobs, load_talents
from matching.pipeline.reconcile import LOCK_KEY, reconcile
from matching.synthetic.seed import seed

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def market(db_url: str) -> str:
    seed(db_url, seed=21, n_talents=40, n_jobs=15)
    return db_url


@pytest.fixture
def db(market: str) -> Iterator[psycopg.Connection]:
    """Autocommit (reconcile wants it); each test starts from "everything
    rematched" with no pending rematch job, and cleans up its own edits."""
    # procrastinate's triggers call its functions unqualified
    options = "-c search_path=procrastinate,public"
    with psycopg.connect(market, autocommit=True, options=options) as conn:
        conn.execute("delete from procrastinate.procrastinate_jobs")
        conn.execute("delete from matching.talent_rematch_marks")
        conn.execute("delete from matching.job_rematch_marks")
        conn.execute("delete from public.matches")
        conn.execute(
            "insert into matching.talent_rematch_marks (talent_id, source_updated_at, outcome)"
            " select id, updated_at, 'matched' from public.talents"
        )
        conn.execute(
            "insert into matching.job_rematch_marks (job_id, source_updated_at, outcome)"
            " select j.id, greatest(j.updated_at, c.updated_at), 'matched'"
            " from public.jobs j join public.companies c on c.id = j.company_id"
        )
        yield conn


def stale(conn: psycopg.Connection, kind: str) -> set:
    return {
        r[0]
        for r in conn.execute(
            "select entity_id from matching.stale_entities(%s, null, 100000)"
            " where entity_id is not null",
            (kind,),
        )
    }


def queued(conn: psycopg.Connection, kind: str) -> set:
    return {
        r[0]
        for r in conn.execute(
            "select (args->>%s)::uuid from procrastinate.procrastinate_jobs"
            " where status = 'todo' and task_name = %s",
            (f"{kind}_id", f"matching:rematch_{kind}"),
        )
    }


def open_talent(conn: psycopg.Connection, offset: int = 0):
    return conn.execute(
        "select id from public.talents where open_to_work order by id offset %s limit 1", (offset,)
    ).fetchone()[0]


def test_everything_marked_means_nothing_to_do(db):
    report = reconcile(db)
    assert report.ran and report.stale == {"job": 0, "talent": 0}
    assert report.queued == {"job": 0, "talent": 0}


def test_edits_whose_jobs_were_lost_are_enqueued_once(db):
    edited = open_talent(db, 0)
    skills_edited = open_talent(db, 1)
    # the edits' own jobs are lost (skip_enqueue: as if the trigger had failed)
    with db.transaction():
        db.execute("set local matching.skip_enqueue = on")
        db.execute(
            "update public.talents set headline = headline || ' (edited)' where id = %s", (edited,)
        )
        db.execute(
            "update public.talent_skills set proficiency = 6 - proficiency where talent_id = %s",
            (skills_edited,),
        )
    assert queued(db, "talent") == set()
    report = reconcile(db)
    assert report.stale["talent"] == 2 and report.queued["talent"] == 2
    assert queued(db, "talent") == {edited, skills_edited}
    # priority: below a user's own edit (0), above bulk re-ranks (-10)
    assert {r[0] for r in db.execute("select priority from procrastinate.procrastinate_jobs")} == {
        -5
    }
    # a second pass coalesces with the pending jobs
    again = reconcile(db)
    assert again.stale["talent"] == 2 and again.queued["talent"] == 0
    assert db.execute("select count(*) from procrastinate.procrastinate_jobs").fetchone()[0] == 2


def test_a_company_edit_makes_its_open_jobs_stale(db):
    company, n_open = db.execute(
        "select company_id, count(*) from public.jobs where status = 'open'"
        " group by company_id order by count(*) desc, company_id limit 1"
    ).fetchone()
    with db.transaction():
        db.execute("set local matching.skip_enqueue = on")
        db.execute("update public.companies set name = name || '.' where id = %s", (company,))
    assert len(stale(db, "job")) == n_open


def test_keyset_batches_find_the_same_entities(db):
    with db.transaction():
        db.execute("set local matching.skip_enqueue = on")
        db.execute(
            "update public.talents set years_experience = years_experience"
            " where id in (select id from public.talents where open_to_work order by id limit 9)"
        )
    small = reconcile(db, batch_size=4)
    assert small.stale["talent"] == 9
    assert small.batches > 40 // 4  # really paged
    assert len(queued(db, "talent")) == 9


def test_a_failed_version_is_not_retried_until_the_next_edit(db):
    talent = open_talent(db, 2)
    db.execute("update public.talents set bio = bio || '.' where id = %s", (talent,))
    db.execute("delete from procrastinate.procrastinate_jobs")
    assert talent in stale(db, "talent")
    # the rematch of this version failed (poison): it is reported once, not retried
    db.execute(
        "update matching.talent_rematch_marks m set source_updated_at = t.updated_at,"
        " outcome = 'failed', error = 'MT041' from public.talents t"
        " where t.id = m.talent_id and t.id = %s",
        (talent,),
    )
    assert talent not in stale(db, "talent")
    db.execute("update public.talents set bio = bio || '!' where id = %s", (talent,))
    assert talent in stale(db, "talent")


def test_out_of_the_market_is_stale_only_while_it_still_has_matches(db):
    talent, job = db.execute(
        "select t.id, j.id from public.talents t, public.jobs j"
        " where t.open_to_work and j.status = 'open' order by t.id, j.id limit 1"
    ).fetchone()
    with db.transaction():
        db.execute("set local matching.skip_enqueue = on")
        db.execute("update public.talents set open_to_work = false where id = %s", (talent,))
    assert talent not in stale(db, "talent")  # nothing stored: nothing to remove
    db.execute(
        "insert into public.matches (talent_id, job_id, score, source)"
        " values (%s, %s, 50, 'fallback')",
        (talent, job),
    )
    assert talent in stale(db, "talent")
    db.execute("update public.talents set open_to_work = true where id = %s", (talent,))


def test_matching_health_reports_pending_edits_and_the_oldest_age(db):
    health = db.execute(
        "select pending_edits, oldest_pending_edit_age_seconds from public.matching_health()"
    ).fetchone()
    assert health == (0, 0)
    talent = open_talent(db, 3)
    with db.transaction():
        # an edit 90 s ago (the touch trigger would stamp now())
        db.execute("set local session_replication_role = replica")
        db.execute(
            "update public.talents set updated_at = now() - interval '90 seconds' where id = %s",
            (talent,),
        )
    pending, age = db.execute(
        "select pending_edits, oldest_pending_edit_age_seconds from public.matching_health()"
    ).fetchone()
    assert pending == 1 and 90 <= age < 120


def test_one_pass_at_a_time(db, market):
    with psycopg.connect(market, autocommit=True) as other:
        other.execute("select pg_advisory_lock(%s)", (LOCK_KEY,))
        assert reconcile(db).ran is False
        other.execute("select pg_advisory_unlock(%s)", (LOCK_KEY,))
    assert reconcile(db).ran is True


def test_reconcile_refuses_a_transactional_connection(market):
    with psycopg.connect(market) as conn, pytest.raises(ValueError, match="autocommit"):
        reconcile(conn)


def test_bad_arguments_get_stable_codes(db):
    with pytest.raises(psycopg.Error) as kind:
        db.execute("select * from matching.reconcile_batch('company', null, 10)")
    assert kind.value.sqlstate == "MT007"
    with pytest.raises(psycopg.Error) as limit:
        db.execute("select * from matching.reconcile_batch('talent', null, 0)")
    assert limit.value.sqlstate == "MT001"


# -- poison-tolerant loading ------------------------------------------------


@pytest.fixture
def poisoned(db) -> Iterator[tuple]:
    """One talent and one job with a zone Python cannot load, written the way
    rows from before the time-zone rule look (the CHECK is not re-validated)."""
    talent, job = db.execute(
        "select (select id from public.talents order by id limit 1),"
        " (select id from public.jobs order by id limit 1)"
    ).fetchone()
    old = db.execute(
        "select (select timezone from public.talents where id = %s),"
        " (select timezone from public.jobs where id = %s)",
        (talent, job),
    ).fetchone()
    db.execute("alter table public.talents drop constraint talents_timezone_valid")
    db.execute("alter table public.jobs drop constraint jobs_timezone_valid")
    db.execute("update public.talents set timezone = 'Mars/Olympus_Mons' where id = %s", (talent,))
    db.execute("update public.jobs set timezone = 'Europe/PARIS' where id = %s", (job,))
    try:
        yield talent, job
    finally:
        db.execute("update public.talents set timezone = %s where id = %s", (old[0], talent))
        db.execute("update public.jobs set timezone = %s where id = %s", (old[1], job))
        db.execute(
            "alter table public.talents add constraint talents_timezone_valid"
            " check (matching.is_valid_timezone(timezone))"
        )
        db.execute(
            "alter table public.jobs add constraint jobs_timezone_valid"
            " check (matching.is_valid_timezone(timezone))"
        )


def test_a_bad_entity_raises_a_clear_error_with_a_stable_code(db, poisoned):
    talent, job = poisoned
    fx = load_fx_rates(db)
    with pytest.raises(BadEntityDataError) as exc:
        load_talents(db, [talent], fx)
    assert exc.value.code == "MT041" and exc.value.entity_id == talent
    assert "Mars/Olympus_Mons" in str(exc.value) and str(talent) in str(exc.value)
    with pytest.raises(BadEntityDataError, match="Europe/PARIS"):
        load_jobs(db, [job], fx)


def test_bad_counterparts_are_left_out_and_reported(db, poisoned):
    talent, job = poisoned
    fx = load_fx_rates(db)
    ids = [r[0] for r in db.execute("select id from public.talents order by id limit 6")]
    assert ids[0] == talent
    rejected: dict = {}
    frame = load_talents(db, ids, fx, rejected=rejected)
    assert list(rejected) == [talent] and "Mars/Olympus_Mons" in rejected[talent]
    assert frame.ids == ids[1:]
    # the skills stay aligned with the rows that were kept
    expected = load_talents(db, ids[1:], fx)
    assert frame.skills.indptr.tolist() == expected.skills.indptr.tolist()
    assert frame.skills.skill_ids.tolist() == expected.skills.skill_ids.tolist()
    assert frame.tz_offset.tolist() == expected.tz_offset.tolist()
    job_ids = [r[0] for r in db.execute("select id from public.jobs order by id limit 4")]
    rejected_jobs: dict = {}
    assert load_jobs(db, job_ids, fx, rejected=rejected_jobs).ids == job_ids[1:]
    assert list(rejected_jobs) == [job]
