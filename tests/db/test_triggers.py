"""Edits enqueue coalesced rematch jobs; the user's write never fails."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from matching.synthetic.seed import seed

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def market(db_url):
    seed(db_url, seed=5, n_talents=60, n_jobs=30)
    with psycopg.connect(db_url) as conn:
        # the seed's backfill job is not what these tests look at
        clear_queue(conn)
    return db_url


def clear_queue(conn) -> None:
    # procrastinate's delete trigger calls its functions unqualified
    conn.execute("select set_config('search_path', 'procrastinate', true)")
    conn.execute("delete from procrastinate.procrastinate_jobs")
    conn.execute("select set_config('search_path', 'public', true)")


def pending(conn, task: str, arg: str | None = None) -> list[tuple]:
    query = (
        "select args, lock, queueing_lock from procrastinate.procrastinate_jobs"
        " where status = 'todo' and task_name = %s"
    )
    params: list = [f"matching:{task}"]
    if arg is not None:
        key = "talent_id" if task == "rematch_talent" else "job_id"
        query += " and args->>%s = %s"
        params += [key, arg]
    return conn.execute(query, params).fetchall()


def an_open_talent(conn):
    return conn.execute(
        "select id from public.talents where open_to_work order by id limit 1"
    ).fetchone()[0]


def an_open_job(conn):
    return conn.execute(
        "select id from public.jobs where status = 'open' order by id limit 1"
    ).fetchone()[0]


def test_talent_update_enqueues_one_job_with_locks(market, conn):
    talent = an_open_talent(conn)
    conn.execute("update public.talents set headline = 'Data engineer' where id = %s", (talent,))
    jobs = pending(conn, "rematch_talent", str(talent))
    assert len(jobs) == 1
    args, lock, queueing_lock = jobs[0]
    assert args == {"talent_id": str(talent)}
    assert lock == f"talent:{talent}"
    assert queueing_lock == f"rematch_talent:{talent}"


def test_rapid_edits_coalesce(market):
    with psycopg.connect(market, autocommit=True) as conn:
        talent = an_open_talent(conn)
        for n in range(10):
            conn.execute(
                "update public.talents set headline = %s where id = %s", (f"Engineer {n}", talent)
            )
        assert len(pending(conn, "rematch_talent", str(talent))) == 1
        with conn.transaction():
            clear_queue(conn)


def test_irrelevant_columns_do_not_enqueue(market, conn):
    talent = an_open_talent(conn)
    conn.execute("update public.talents set updated_at = now() where id = %s", (talent,))
    conn.execute("update public.talents set headline = headline where id = %s", (talent,))
    assert pending(conn, "rematch_talent") == []


def test_leaving_the_market_enqueues_and_closed_entities_stay_quiet(market, conn):
    talent = an_open_talent(conn)
    conn.execute("update public.talents set open_to_work = false where id = %s", (talent,))
    assert len(pending(conn, "rematch_talent", str(talent))) == 1
    job = an_open_job(conn)
    conn.execute("update public.jobs set status = 'closed' where id = %s", (job,))
    assert len(pending(conn, "rematch_job", str(job))) == 1
    clear_queue(conn)
    # a closed job edited again is nobody's business
    conn.execute("update public.jobs set title = 'Still closed' where id = %s", (job,))
    assert pending(conn, "rematch_job") == []


def test_skill_edits_enqueue_their_entity(market, conn):
    talent = an_open_talent(conn)
    skill = conn.execute(
        "select id from public.skills where id not in"
        " (select skill_id from public.talent_skills where talent_id = %s) limit 1",
        (talent,),
    ).fetchone()[0]
    conn.execute(
        "insert into public.talent_skills (talent_id, skill_id, proficiency) values (%s, %s, 3)",
        (talent, skill),
    )
    assert len(pending(conn, "rematch_talent", str(talent))) == 1
    job = an_open_job(conn)
    conn.execute("delete from public.job_skills where job_id = %s", (job,))
    assert len(pending(conn, "rematch_job", str(job))) == 1


def test_company_culture_change_enqueues_its_open_jobs(market, conn):
    company, n_open = conn.execute(
        "select company_id, count(*) from public.jobs where status = 'open'"
        " group by company_id order by count(*) desc limit 1"
    ).fetchone()
    conn.execute("update public.companies set work_styles = '{async}' where id = %s", (company,))
    assert len(pending(conn, "rematch_job")) == n_open


def test_bulk_insert_enqueues_every_row_in_one_statement(market, conn):
    company = conn.execute("select id from public.companies limit 1").fetchone()[0]
    conn.execute(
        "insert into public.jobs (company_id, title, experience_level, remote_policy, status)"
        " select %s, 'Bulk job ' || g, 'mid', 'remote', 'open' from generate_series(1, 1000) g",
        (company,),
    )
    assert len(pending(conn, "rematch_job")) == 1000


def test_bulk_loads_can_skip_enqueueing(market, conn):
    conn.execute("select set_config('matching.skip_enqueue', 'on', true)")
    talent = an_open_talent(conn)
    conn.execute("update public.talents set headline = 'Quiet' where id = %s", (talent,))
    assert pending(conn, "rematch_talent") == []


def test_enqueue_failure_never_fails_the_users_write(market, conn):
    talent = an_open_talent(conn)
    # break the queue for this transaction only: its table disappears
    conn.execute("alter table procrastinate.procrastinate_jobs rename to jobs_gone")
    notices: list[str] = []
    conn.add_notice_handler(lambda d: notices.append(d.message_primary or ""))
    conn.execute("update public.talents set headline = 'Still saved' where id = %s", (talent,))
    assert (
        conn.execute("select headline from public.talents where id = %s", (talent,)).fetchone()[0]
        == "Still saved"
    )
    assert any("could not enqueue" in n for n in notices)
    failure = conn.execute(
        "select kind, entity_ids from matching.enqueue_failures order by id desc limit 1"
    ).fetchone()
    assert failure == ("talent", [talent])


def test_enqueue_functions_are_not_callable_by_api_roles(conn):
    conn.execute("set local role authenticated")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("select matching.enqueue_rematch('talent', array[%s::uuid])", (uuid.uuid4(),))


def test_an_edit_promotes_a_pending_bulk_job(market, conn):
    talent = an_open_talent(conn)
    conn.execute("select matching.enqueue_rematch('talent', array[%s::uuid], -10)", (talent,))
    conn.execute("update public.talents set headline = 'Promoted' where id = %s", (talent,))
    rows = conn.execute(
        "select priority from procrastinate.procrastinate_jobs"
        " where status = 'todo' and queueing_lock = %s",
        (f"rematch_talent:{talent}",),
    ).fetchall()
    assert rows == [(0,)]


def test_an_edit_pulls_a_backoff_retry_forward(market, conn):
    talent = an_open_talent(conn)
    conn.execute(
        "select matching.enqueue_jobs('rematch_talent', 'rematch', array[%s::uuid], 'talent',"
        " 'talent_id', now() + interval '1 hour', '{\"attempt\": 1}'::jsonb)",
        (talent,),
    )
    conn.execute("update public.talents set headline = 'Now please' where id = %s", (talent,))
    rows = conn.execute(
        "select scheduled_at from procrastinate.procrastinate_jobs"
        " where status = 'todo' and queueing_lock = %s",
        (f"rematch_talent:{talent}",),
    ).fetchall()
    assert rows == [(None,)]
