"""The columns the rematch triggers watch cover every column the loaders read.

A rematch is fired by triggers that compare OLD and NEW rows column by column
(migrations/*_rematch_triggers.sql); features and embedding texts are built
from what the loaders SELECT. Nothing ties the two lists together by hand, so
this test derives both from the running system:

* read side: the loader functions are run against a seeded database through a
  connection that records every statement; each SELECT is bound client-side
  and created as a temporary view, and Postgres' own dependency records
  (pg_depend on the view's rewrite rule) name every table column it reads.
  Where the SQL text lives (a Python constant or a named query file) does not
  matter.
* write side: for each table, its AFTER UPDATE triggers (pg_trigger). A
  trigger with an `UPDATE OF` list watches those columns; a trigger function
  that compares transition-table rows with IS DISTINCT FROM watches the
  columns it reads from them; any other UPDATE trigger fires on every update
  and so watches all columns.

A column read but not watched means an edit that changes features or texts
and leaves matches stale: that fails. A column watched but read by nobody is
only wasted rematches: it is reported (printed), not failed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest
from psycopg import sql

from matching.pipeline import loaders
from matching.retrieval import store
from matching.synthetic.seed import seed

Column = tuple[str, str, str]  # (schema, table, column)

# Columns a loader may read without a trigger watching them, each with why.
KEYS = frozenset({"id"})  # a row's identity: updating it is a delete plus an insert
UNWATCHED_BY_DESIGN: dict[Column, str] = {
    # Skill names go into embedding texts, but the taxonomy is reference data:
    # API roles may only read it (grant select), so no user edit can change a
    # name; a rename is an operator's change, not a user's edit.
    ("public", "skills", "name"): "taxonomy reference data, read-only for API roles",
    # Exchange rates turn salaries into USD features, but only the service role
    # writes them: a new rate set is an operator's change, not a user's edit.
    ("matching", "fx_rates", "currency"): "reference data, service role only",
    ("matching", "fx_rates", "units_per_usd"): "reference data, service role only",
}


@dataclass
class Recorder:
    """A psycopg connection stand-in that remembers every statement run through it."""

    conn: psycopg.Connection
    statements: list[tuple[Any, Any]] = field(default_factory=list)

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> psycopg.Cursor[Any]:
        self.statements.append((query, params))
        return self.conn.execute(query, params, **kwargs)

    def cursor(self, *args: Any, **kwargs: Any) -> _RecordingCursor:
        return _RecordingCursor(self, self.conn.cursor(*args, **kwargs))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)


@dataclass
class _RecordingCursor:
    recorder: Recorder
    cursor: psycopg.Cursor[Any]

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> _RecordingCursor:
        self.recorder.statements.append((query, params))
        self.cursor.execute(query, params, **kwargs)
        return self

    def __enter__(self) -> _RecordingCursor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cursor.close()

    def __iter__(self) -> Iterator[Any]:
        return iter(self.cursor)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.cursor, name)


@pytest.fixture(scope="module")
def market(db_url: str) -> str:
    seed(db_url, seed=11, n_talents=8, n_jobs=6)
    return db_url


def _loader_calls(conn: psycopg.Connection) -> dict[str, Callable[[Any], object]]:
    """Every function whose reads feed a rematch: features and embedding texts."""
    talents = [r[0] for r in conn.execute("select id from public.talents order by id")]
    jobs = [r[0] for r in conn.execute("select id from public.jobs order by id")]
    fx = loaders.load_fx_rates(conn)
    return {
        "load_fx_rates": loaders.load_fx_rates,
        "load_talents": lambda c: loaders.load_talents(c, talents, fx),
        "load_jobs": lambda c: loaders.load_jobs(c, jobs, fx),
        "talent_texts": lambda c: store.talent_texts(c, talents),
        "job_texts": lambda c: store.job_texts(c, jobs),
    }


def _as_text(conn: psycopg.Connection, query: Any, params: Any) -> str:
    """The statement with its parameters bound as literals (a view has no parameters)."""
    if isinstance(query, bytes):
        query = query.decode()
    return psycopg.ClientCursor(conn).mogrify(query, params)


def columns_read(conn: psycopg.Connection, statement: str) -> set[Column]:
    """Table columns a SELECT reads, as Postgres records them for a view of it.

    The SELECT is wrapped in a subquery so unnamed or repeated output columns
    (`?column?`) do not stop the view; a whole-row reference counts as every
    column of its table.
    """
    with conn.transaction(force_rollback=True):
        conn.execute(
            sql.SQL("create temporary view trigger_columns_probe as select 1 from ({}) q").format(
                sql.SQL(statement.strip().rstrip(";"))
            )
        )
        rows = conn.execute(
            """
            select distinct n.nspname, c.relname, a.attname
            from pg_depend d
            join pg_rewrite r on d.classid = 'pg_rewrite'::regclass and d.objid = r.oid
            join pg_class c on c.oid = d.refobjid and c.relkind in ('r', 'p')
            join pg_namespace n on n.oid = c.relnamespace
            join pg_attribute a on a.attrelid = c.oid
              and (a.attnum = d.refobjsubid or (d.refobjsubid = 0 and a.attnum > 0))
              and not a.attisdropped
            where r.ev_class = 'trigger_columns_probe'::regclass
              and d.refclassid = 'pg_class'::regclass
            """
        ).fetchall()
    return {(s, t, c) for s, t, c in rows}


@dataclass(frozen=True)
class UpdateTrigger:
    schema: str
    table: str
    name: str
    columns: frozenset[str]
    how: str


def update_triggers(conn: psycopg.Connection) -> list[UpdateTrigger]:
    """What each AFTER UPDATE trigger that enqueues work watches.

    See the module docstring for the three ways a trigger can watch columns.
    """
    rows = conn.execute(
        """
        select n.nspname, c.relname, t.tgname, t.tgnewtable, t.tgoldtable, p.prosrc,
               array(select a.attname from pg_attribute a
                     where a.attrelid = c.oid and a.attnum = any (t.tgattr)),
               array(select a.attname from pg_attribute a
                     where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped)
        from pg_trigger t
        join pg_class c on c.oid = t.tgrelid
        join pg_namespace n on n.oid = c.relnamespace
        join pg_proc p on p.oid = t.tgfoid
        where not t.tgisinternal
          and t.tgtype & 16 <> 0  -- TRIGGER_TYPE_UPDATE
          and t.tgtype & 2 = 0  -- not BEFORE: a rematch trigger sees the committed row
          and n.nspname not in ('pg_catalog', 'information_schema')
          and p.prosrc ~* 'enqueue'  -- fires a rematch (not e.g. an updated_at stamp)
        """
    ).fetchall()
    out = []
    for schema, table, name, new_table, old_table, body, update_of, all_columns in rows:
        if update_of:
            columns, how = frozenset(update_of), "UPDATE OF"
        elif re.search(r"\bis\s+distinct\s+from\b", body, re.IGNORECASE) and (
            new_table or old_table
        ):
            aliases = set()
            for transition in filter(None, (new_table, old_table)):
                aliases |= set(
                    re.findall(
                        rf"\b{re.escape(transition)}\s+(?:as\s+)?([a-z_][a-z0-9_]*)",
                        body,
                        re.IGNORECASE,
                    )
                )
            aliases -= {"join", "where", "on", "using", "left", "cross", "inner"}
            assert aliases, f"{name}: compares rows but its transition-table aliases were not found"
            referenced = {
                column
                for alias in aliases
                for column in re.findall(rf"\b{alias}\.([a-z_][a-z0-9_]*)", body, re.IGNORECASE)
            }
            unknown = referenced - set(all_columns)
            assert not unknown, f"{name}: reads {unknown}, not columns of {schema}.{table}"
            columns, how = frozenset(referenced), "IS DISTINCT FROM"
        else:
            columns, how = frozenset(all_columns), "every update"
        out.append(UpdateTrigger(schema, table, name, columns, how))
    return out


@pytest.fixture(scope="module")
def reads(market: str) -> dict[str, set[Column]]:
    """Columns read, per loader function."""
    out: dict[str, set[Column]] = {}
    with psycopg.connect(market) as conn:
        for name, call in _loader_calls(conn).items():
            recorder = Recorder(conn)
            call(recorder)
            selects = [
                _as_text(conn, q, p)
                for q, p in recorder.statements
                if re.match(r"\s*(select|with)\b", _as_text(conn, q, p), re.IGNORECASE)
            ]
            assert selects, f"{name} ran no SELECT through the connection it was given"
            out[name] = set().union(*(columns_read(conn, s) for s in selects))
        conn.rollback()
    return out


@pytest.fixture(scope="module")
def watched(market: str) -> dict[Column, list[str]]:
    """Column -> the triggers that fire a rematch when it changes."""
    with psycopg.connect(market) as conn:
        triggers = update_triggers(conn)
    out: dict[Column, list[str]] = {}
    for trigger in triggers:
        for column in trigger.columns:
            out.setdefault((trigger.schema, trigger.table, column), []).append(
                f"{trigger.name} ({trigger.how})"
            )
    return out


def test_the_probe_sees_what_the_loaders_read(reads):
    # The derivation itself must see the obvious inputs, or the next test proves nothing.
    everything = set().union(*reads.values())
    for column in [
        ("public", "talents", "salary_min"),
        ("public", "talents", "work_styles"),
        ("public", "talent_skills", "proficiency"),
        ("public", "jobs", "remote_policy"),
        ("public", "job_skills", "required"),
        ("public", "companies", "work_styles"),
        ("public", "talents", "headline"),
        ("public", "jobs", "description"),
        ("public", "companies", "name"),
    ]:
        assert column in everything, column


def test_the_trigger_parser_sees_the_watched_columns(watched):
    for column in [
        ("public", "talents", "years_experience"),
        ("public", "talents", "open_to_work"),
        ("public", "jobs", "status"),
        ("public", "companies", "size"),
        ("public", "talent_skills", "years"),
        ("public", "job_skills", "min_proficiency"),
    ]:
        assert column in watched, column
    assert ("public", "talents", "updated_at") not in watched


def test_every_column_a_loader_reads_fires_a_rematch_when_it_changes(reads, watched):
    unwatched = {
        column: sorted(name for name, cols in reads.items() if column in cols)
        for column in set().union(*reads.values())
        if column[2] not in KEYS and column not in watched and column not in UNWATCHED_BY_DESIGN
    }
    assert not unwatched, (
        "columns read by loaders that no rematch trigger watches (an edit leaves matches "
        "stale); add them to the trigger's IS DISTINCT FROM list in a new migration: "
        + ", ".join(
            f"{'.'.join(c)} (read by {', '.join(by)})" for c, by in sorted(unwatched.items())
        )
    )


def test_allowances_are_still_needed(reads, watched):
    # An allowance for a column nobody reads any more, or that a trigger now
    # watches, would hide the next real gap: keep the list exact.
    everything = set().union(*reads.values())
    stale = [c for c in UNWATCHED_BY_DESIGN if c not in everything or c in watched]
    assert not stale, f"UNWATCHED_BY_DESIGN lists columns that need no allowance: {stale}"


def test_report_watched_columns_nobody_reads(reads, watched, capsys):
    # Not a failure: a watched column that no loader reads only costs rematches
    # that change nothing. Printed so `pytest -s` or -rA shows the list.
    everything = set().union(*reads.values())
    wasted = sorted(
        c
        for c, triggers in watched.items()
        if c not in everything
        and c[2] not in KEYS
        and not any(t.endswith("(every update)") for t in triggers)
    )
    with capsys.disabled():
        if wasted:
            print(
                "\nwatched by a rematch trigger but read by no loader:",
                ", ".join(".".join(c) for c in wasted),
            )
