"""The TypeScript client's generated types against the migrated database.

The committed clients/typescript/src/generated/api.ts is what the generator
makes of the current migrations; what the catalog cannot say (columns that are
never null, the shapes of jsonb values, the sort keys and error codes) is
checked on real rows, stored (`ml`) and computed now (`fallback`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, get_args

import psycopg
import pytest
from support.rpc import MODEL, SERVICE, Api, World, assert_clean

from matching import clientgen
from matching.cli.main import main
from matching.models import FeedbackType, ScoreCategory, SortKey, TopFactor

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def catalog(conn: psycopg.Connection) -> clientgen.Catalog:
    return clientgen.read_catalog(conn)


def test_committed_client_types_are_current(conn: psycopg.Connection) -> None:
    committed = (ROOT / clientgen.GENERATED_FILE).read_text(encoding="utf-8")
    generated = clientgen.generate(conn, ROOT / "migrations")
    assert committed == generated, (
        f"{clientgen.GENERATED_FILE} is out of date: run `matching client generate`"
        " against a migrated database (`matching migrate` first) and commit the result"
    )


def test_the_cli_writes_and_checks_the_file(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from matching.settings import get_settings

    target = tmp_path / "api.ts"
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setattr(clientgen, "GENERATED_FILE", str(target))
    get_settings.cache_clear()
    try:
        assert main(["client", "generate", "--check"]) == 1
        assert "is out of date; run `matching client generate`" in capsys.readouterr().err
        assert main(["client", "generate"]) == 0
        assert target.read_text(encoding="utf-8").startswith(clientgen.HEADER)
        assert main(["client", "generate", "--check"]) == 0
        assert "is current" in capsys.readouterr().out
    finally:
        get_settings.cache_clear()


def test_an_unmigrated_database_is_refused(blank_db_url: str) -> None:
    with (
        psycopg.connect(blank_db_url) as conn,
        pytest.raises(clientgen.ClientGenError, match="run `matching migrate`"),
    ):
        clientgen.generate(conn, ROOT / "migrations")


def test_the_api_is_what_the_docs_list(catalog: clientgen.Catalog) -> None:
    names = {f.name for f in catalog.functions}
    assert "check_rate_limit" not in names
    assert names == {
        "get_talent_matches",
        "get_job_matches",
        "record_match_feedback",
        "get_my_context",
        "request_retrain",
        "activate_model",
        "rollback_model",
        "matching_health",
    }
    docs = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    undocumented = sorted(n for n in names if f"public.{n}(" not in docs)
    assert undocumented == [], f"docs/api.md has no signature of {undocumented}"


def test_error_codes_are_the_documented_ones(catalog: clientgen.Catalog) -> None:
    """ERROR_CODES (read from the functions' bodies) and docs/api.md's table agree."""
    docs = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    table = docs.split("## Error codes", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([0-9A-Z]{5})` \|", table, re.MULTILINE))
    assert set(catalog.error_codes) == documented
    assert not set(catalog.error_codes) & clientgen.INTERNAL_CODES


def test_sort_keys_and_sub_score_filters_are_what_the_sql_accepts(
    api: Api, world: World, conn: psycopg.Connection, catalog: clientgen.Catalog
) -> None:
    """JobSortKey ('score' + the categories companies see) is exactly what
    get_job_matches accepts for p_sort (MT011 otherwise), and
    CompanyScoreCategory exactly the keys of p_min_sub_scores (MT012 otherwise)."""
    job = str(world.jobs["x_open"])
    sort_keys = {"score", *catalog.company_categories}
    for key in ["score", *(c.value for c in ScoreCategory), "name"]:
        args = {"p_job_id": job, "p_sort": key}
        if key in sort_keys:
            api.call("get_job_matches", args, SERVICE)
        else:
            assert_clean(conn, api.error("get_job_matches", args, SERVICE), "MT011")
    for category in [c.value for c in ScoreCategory]:
        args = {"p_job_id": job, "p_min_sub_scores": {category: 0}}
        if category in catalog.company_categories:
            api.call("get_job_matches", args, SERVICE)
        else:
            assert_clean(conn, api.error("get_job_matches", args, SERVICE), "MT012")
    assert "culture" not in catalog.company_categories
    # the Python request model accepts the same keys
    assert set(get_args(SortKey)) == sort_keys


def _check_rows(
    fn: str,
    rows: list[dict[str, Any]],
    catalog: clientgen.Catalog,
    seen_tags: dict[str, set[str]],
) -> None:
    """Every NON_NULL column is set, the JSON values have their generated shapes, and
    each row is of one of its function's VARIANTS (its kind's columns null or set)."""
    assert rows, f"{fn} returned no rows to check"
    function = next(f for f in catalog.functions if f.name == fn)
    assert function.columns is not None
    columns = [c.name for c in function.columns]
    # the generated shape: CompanySubScores (get_job_matches) or SubScores
    _, shape = clientgen.SHAPES.get(f"{fn}.sub_scores", clientgen.SHAPES["sub_scores"])
    company = shape == "CompanySubScores"
    assert company == (fn == "get_job_matches")
    categories = set(catalog.company_categories if company else catalog.score_categories)
    for row in rows:
        assert list(row) == columns
        unset = sorted(c for c in clientgen.NON_NULL[fn] if row[c] is None)
        assert unset == [], f"{fn}: NON_NULL columns {unset} are null in {row}"
        if "sub_scores" in row:
            assert set(row["sub_scores"]) <= categories, row["sub_scores"]
            assert all(isinstance(v, int | float) for v in row["sub_scores"].values())
        if "top_reasons" in row:
            for reason in row["top_reasons"]:
                assert set(reason) == set(TopFactor.model_fields)
                TopFactor.model_validate(reason)
        if "feedback" in row:
            assert set(row["feedback"]) <= {t.value for t in FeedbackType}
        if "queue_depth_by_queue" in row:
            assert all(isinstance(v, int) for v in row["queue_depth_by_queue"].values())
        if fn in clientgen.VARIANTS:
            tag, kinds = clientgen.VARIANTS[fn]
            kind = next(k for k in kinds if k.tag == row[tag])  # every tag is listed
            assert all(row[c] is None for c in kind.null), (fn, kind.tag, row)
            assert all(row[c] is not None for c in kind.non_null), (fn, kind.tag, row)
            seen_tags.setdefault(fn, set()).add(kind.tag)


def test_non_null_columns_are_set_on_real_rows(
    api: Api, world: World, conn: psycopg.Connection, catalog: clientgen.Catalog
) -> None:
    checked: set[str] = set()
    seen_tags: dict[str, set[str]] = {}

    def rows(fn: str, args: dict[str, Any], caller: Any, source: str | None = None) -> None:
        result = api.call(fn, args, caller)
        _check_rows(fn, result, catalog, seen_tags)
        if source is not None:
            assert {r["source"] for r in result} == {source}
        checked.add(fn)

    # stored matches (ann, job x_open) and fallback scores (bob, job y_open)
    rows(
        "get_talent_matches", {"p_talent_id": str(world.talents["ann"])}, world.caller("ann"), "ml"
    )
    rows(
        "get_talent_matches",
        {"p_talent_id": str(world.talents["bob"])},
        world.caller("bob"),
        "fallback",
    )
    rows("get_job_matches", {"p_job_id": str(world.jobs["x_open"])}, world.caller("xena"), "ml")
    rows(
        "get_job_matches",
        {"p_job_id": str(world.jobs["y_open"]), "p_sort": "skills"},
        world.caller("yuri"),
        "fallback",
    )
    for talent, job, kind, caller in (
        ("ann", "x_open", "applied", "ann"),
        ("bob", "y_open", "interested", "bob"),
        ("ann", "x_open", "shortlisted", "xena"),
    ):
        args = {
            "p_talent_id": str(world.talents[talent]),
            "p_job_id": str(world.jobs[job]),
            "p_feedback_type": kind,
        }
        rows("record_match_feedback", args, world.caller(caller))
    # feedback shows up in the read functions' `feedback` arrays
    rows("get_talent_matches", {"p_talent_id": str(world.talents["ann"])}, world.caller("ann"))
    rows("get_my_context", {}, world.caller("ann"))
    rows("get_my_context", {}, world.caller("xena"))
    rows("request_retrain", {}, SERVICE)
    rows("request_retrain", {"p_force": True}, SERVICE)
    rows("matching_health", {}, SERVICE)

    conn.execute(
        "insert into matching.model_versions (version, model_text, feature_names,"
        " training_samples) values ('clientgen-2', 'tree', '{a}', 1)"
    )
    assert api.call("activate_model", {"p_version": MODEL}, SERVICE) == MODEL
    assert api.call("activate_model", {"p_version": "clientgen-2"}, SERVICE) == "clientgen-2"
    assert api.call("rollback_model", {}, SERVICE) == MODEL
    checked |= {"activate_model", "rollback_model"}
    rows("matching_health", {}, SERVICE)  # with an active model, a worker-less queue

    assert checked == set(clientgen.NON_NULL), "every NON_NULL entry is checked here"
    assert seen_tags == {
        fn: {k.tag for k in kinds} for fn, (_, kinds) in clientgen.VARIANTS.items()
    }, "every kind of row of VARIANTS is checked here"
