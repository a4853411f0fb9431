"""`matching demo`'s sign-in users: made only where the demo seeded, never on
someone else's account, and the same people on every run."""

from __future__ import annotations

import bcrypt
import psycopg
import pytest

from matching.cli.demo_users import (
    DEMO_PASSWORD,
    DemoUsersError,
    demo_users_for,
    ensure_demo_users,
)
from matching.synthetic.seed import seed

pytestmark = pytest.mark.integration


@pytest.fixture
def market(fresh_db_url: str) -> str:
    seed(fresh_db_url, seed=5, n_talents=40, n_jobs=12)
    return fresh_db_url


def accounts(conn: psycopg.Connection) -> int:
    return conn.execute("select count(*) from auth.users").fetchone()[0]


def test_a_database_the_demo_did_not_seed_gets_no_users(market: str) -> None:
    with psycopg.connect(market, autocommit=True) as conn:
        assert demo_users_for(conn, seeded_now=False) == []
        assert accounts(conn) == 0
        # seeded now: made; a later run that did not seed reuses them
        made = demo_users_for(conn, seeded_now=True)
        again = demo_users_for(conn, seeded_now=False)
        assert [(u.email, u.user_id, u.entity_ids) for u in again] == [
            (u.email, u.user_id, u.entity_ids) for u in made
        ]
        assert accounts(conn) == 4


def test_users_keep_their_talent_and_company_across_runs(market: str) -> None:
    with psycopg.connect(market, autocommit=True) as conn:
        first = ensure_demo_users(conn)
        # a profile the first run did not pick gets an account of its own
        # meanwhile; the next run must not hand the demo users other people
        conn.execute(
            "insert into auth.users (id, email) values (gen_random_uuid(), 'real@example.com')"
        )
        second = ensure_demo_users(conn)
        assert [(u.email, u.entity_ids) for u in second] == [(u.email, u.entity_ids) for u in first]
        talent_ids = [u.entity_ids[0] for u in first if u.kind == "talent"]
        assert len(set(talent_ids)) == 2
        hashed = conn.execute(
            "select encrypted_password from auth.users where email = 'owner@demo.example'"
        ).fetchone()[0]
        assert bcrypt.checkpw(DEMO_PASSWORD.encode(), hashed.encode())


def test_an_account_the_demo_did_not_make_is_left_alone(market: str) -> None:
    with psycopg.connect(market, autocommit=True) as conn:
        conn.execute("alter table auth.users add column if not exists encrypted_password text")
        conn.execute(
            "insert into auth.users (id, email, encrypted_password)"
            " values (gen_random_uuid(), 'owner@demo.example', 'their own hash')"
        )
        with pytest.raises(DemoUsersError, match="did not make"):
            ensure_demo_users(conn)
        # nothing half-made: one transaction
        assert accounts(conn) == 1
        assert (
            conn.execute(
                "select encrypted_password from auth.users where email = 'owner@demo.example'"
            ).fetchone()[0]
            == "their own hash"
        )
        assert (
            conn.execute(
                "select count(*) from public.talents where user_id is not null"
            ).fetchone()[0]
            == 0
        )
