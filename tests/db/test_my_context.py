"""`get_my_context`: the ids a dashboard opens, and only the caller's own."""

from __future__ import annotations

import psycopg
import pytest
from support.rpc import ANON, SERVICE, Api, World, assert_clean

pytestmark = pytest.mark.integration


def test_a_talent_sees_only_their_own_profile(api: Api, world: World) -> None:
    rows = api.call("get_my_context", {}, world.caller("ann"))
    assert [(r["kind"], r["id"], r["label"]) for r in rows] == [
        ("talent", str(world.talents["ann"]), "Engineer ann")
    ]
    assert rows[0]["company_id"] is None and rows[0]["status"] is None


def test_a_member_sees_their_companys_jobs_open_first(api: Api, world: World) -> None:
    rows = api.call("get_my_context", {}, world.caller("xavier"))
    assert {r["kind"] for r in rows} == {"job"}
    assert {r["id"] for r in rows} == {str(world.jobs[k]) for k in ("x_open", "x_other", "x_draft")}
    assert [r["status"] for r in rows] == ["open", "open", "draft"]
    assert {r["member_role"] for r in rows} == {"recruiter"}
    assert {r["company_id"] for r in rows} == {str(world.companies["x"])}
    # another company's jobs never appear
    assert not {str(world.jobs["y_open"]), str(world.jobs["y_draft"])} & {r["id"] for r in rows}


def test_a_user_with_nothing_gets_an_empty_list(api: Api, world: World) -> None:
    assert api.call("get_my_context", {}, world.caller("admin", admin=True)) == []
    assert api.call("get_my_context", {}, SERVICE) == []


def test_anonymous_callers_are_refused(api: Api, conn: psycopg.Connection, world: World) -> None:
    err = api.error("get_my_context", {}, ANON)
    assert_clean(conn, err, "42501")
