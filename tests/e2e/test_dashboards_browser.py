"""The example dashboards in a real browser, against a real worker's matches.

Headless Chromium (Debian's `chromium`, driven by Playwright through
`executable_path`) loads the built Vite page, signs in as `matching demo`'s
users through supabase-js, sees the matches a real worker computed, records
feedback, and the feedback row is in the database. The page talks to
tests/support/postgrest.py, a test double of PostgREST and GoTrue's password
grant (neither installs on these machines); against `supabase start` the same
page talks to the real ones.

Each test leaves a screenshot of its dashboard in .logs/screenshots/.
"""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from support.postgrest import PostgrestDouble
from support.worker import Worker, one, queue_idle, wait_for

from matching.cli.demo_users import DEMO_PASSWORD, DemoUser, ensure_demo_users
from matching.synthetic.seed import seed
from matching.training.initial import train_initial_model

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "clients" / "typescript"
SCREENSHOTS = ROOT / ".logs" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
JWT_SECRET = "test-double-jwt-secret-with-at-least-32-characters"
# what Chromium needs on a machine with no network and no sandbox support
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

if not Path(CHROMIUM).exists():
    pytest.skip(
        "Debian's chromium is not installed (apt-get install chromium; see README, 'Testing')",
        allow_module_level=True,
    )
if not (CLIENT / "node_modules").is_dir():
    pytest.skip(
        "clients/typescript has no node_modules: `make test` installs them with npm",
        allow_module_level=True,
    )


@dataclass(frozen=True)
class Market:
    url: str
    talent: DemoUser
    second_talent: DemoUser
    owner: DemoUser


@pytest.fixture(scope="module")
def market(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Market]:
    seed(db_url, seed=21, n_talents=120, n_jobs=40)
    train_initial_model(db_url, n_pairs=800, folds=2, seed=21)
    with psycopg.connect(db_url, autocommit=True) as conn:
        users = ensure_demo_users(conn)
    worker = Worker(db_url, tmp_path_factory.mktemp("worker") / "worker.log")
    try:
        wait_for(lambda: queue_idle(db_url), 600, "the backfill to finish", worker)
        talent = next(u for u in users if u.email.startswith("talent1@"))
        owner = next(u for u in users if u.email.startswith("owner@"))
        assert one(
            db_url,
            "select count(*) from public.matches where talent_id = %s and source = 'ml'",
            (talent.entity_ids[0],),
        )
        second = next(u for u in users if u.email.startswith("talent2@"))
        yield Market(db_url, talent, second, owner)
    finally:
        worker.stop()


@pytest.fixture(scope="module")
def page_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example built by Vite, as `npm run build:example` builds it."""
    out = tmp_path_factory.mktemp("example")
    done = subprocess.run(
        ["npx", "vite", "build", "example", "--outDir", str(out), "--emptyOutDir"],
        cwd=CLIENT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (out / "index.html").exists()
    return out


@pytest.fixture(scope="module")
def page_url(page_dir: Path) -> Iterator[str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(page_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    finally:
        server.shutdown()


@pytest.fixture(scope="module")
def api(market: Market) -> Iterator[PostgrestDouble]:
    with PostgrestDouble(market.url, JWT_SECRET) as double:
        yield double


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    try:
        yield pg
    finally:
        context.close()
    assert errors == [], f"the page raised: {errors}"


def sign_in(page: Any, page_url: str, api: PostgrestDouble, email: str) -> None:
    base = api.base_url
    page.goto(f"{page_url}?url={base}&key={api.anon_key}")
    page.get_by_test_id("signin-email").fill(email)
    page.get_by_test_id("signin-password").fill(DEMO_PASSWORD)
    page.get_by_test_id("signin-submit").click()


def served(url: str, sub: str, query: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
    """What the API serves this user, asked in SQL the way PostgREST asks it."""
    with psycopg.connect(url) as conn:
        conn.execute("set local role authenticated")
        conn.execute(
            "select set_config('request.jwt.claims', %s, true)",
            (f'{{"sub": "{sub}", "role": "authenticated"}}',),
        )
        cur = conn.execute(query, params)
        names = [d.name for d in cur.description or []]
        rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        conn.rollback()
    return rows


def feedback_rows(url: str, talent_id: object, job_id: str, kind: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select actor::text, actor_user_id from public.match_feedback"
            " where talent_id = %s and job_id = %s and feedback_type = %s",
            (talent_id, job_id, kind),
        ).fetchall()


def test_talent_dashboard_shows_explained_matches_and_records_feedback(
    page: Any, page_url: str, api: PostgrestDouble, market: Market
) -> None:
    talent = market.talent
    sign_in(page, page_url, api, talent.email)
    cards = page.get_by_test_id("talent-view").get_by_test_id("match-card")
    cards.first.wait_for(timeout=30_000)

    expected = served(
        market.url,
        str(talent.user_id),
        # the page asks for 50
        "select job_id::text, score, top_reasons, source"
        " from public.get_talent_matches(%s, p_limit => 50)",
        (talent.entity_ids[0],),
    )
    shown = [cards.nth(i).get_attribute("data-job-id") for i in range(cards.count())]
    assert shown == [r["job_id"] for r in expected]
    assert {r["source"] for r in expected} == {"ml"}  # the worker's scores, not the fallback

    first = cards.first
    score = first.get_by_test_id("score")
    assert float(score.get_attribute("data-value")) == float(expected[0]["score"])
    # shown with one decimal
    assert abs(float(score.inner_text().strip()) - float(expected[0]["score"])) <= 0.05
    reasons = [r.strip() for r in first.get_by_test_id("reason").all_inner_texts()]
    assert reasons == [r["sentence"] for r in expected[0]["top_reasons"]]
    assert first.get_by_test_id("sub-score-skills").count() == 1

    apply = first.get_by_test_id("feedback-applied")
    apply.click()
    page.wait_for_function(
        "el => el.getAttribute('aria-pressed') === 'true'", arg=apply.element_handle()
    )
    rows = feedback_rows(market.url, talent.entity_ids[0], expected[0]["job_id"], "applied")
    assert rows == [("talent", talent.user_id)]

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "talent-dashboard.png"), full_page=False)


def test_company_dashboard_sorts_and_records_feedback(
    page: Any, page_url: str, api: PostgrestDouble, market: Market
) -> None:
    owner = market.owner
    sign_in(page, page_url, api, owner.email)
    picker = page.get_by_test_id("job-picker")
    picker.wait_for(timeout=30_000)
    job_id = str(owner.entity_ids[0])
    picker.select_option(job_id)
    view = page.get_by_test_id("company-view")
    cards = view.get_by_test_id("match-card")
    cards.first.wait_for(timeout=30_000)

    def expected(sort: str) -> list[dict[str, Any]]:
        return served(
            market.url,
            str(owner.user_id),
            "select talent_id::text, score"
            " from public.get_job_matches(%s, p_limit => 50, p_sort => %s)",
            (job_id, sort),
        )

    def shown() -> list[str | None]:
        return [cards.nth(i).get_attribute("data-talent-id") for i in range(cards.count())]

    by_score = expected("score")
    assert by_score, "the worker stored matches for the demo company's first job"
    assert shown() == [r["talent_id"] for r in by_score]
    # companies see coarsened numbers: whole scores, location in steps of 25,
    # no culture sub-score (the talent's preferences)
    for i in range(cards.count()):
        card = cards.nth(i)
        value = float(card.get_by_test_id("score").get_attribute("data-value"))
        assert value == int(value) and card.get_by_test_id("score").inner_text() == str(int(value))
        assert card.get_by_test_id("sub-score-culture").count() == 0
        location = card.get_by_test_id("sub-score-location")
        if location.count():
            assert float(location.get_attribute("data-value")) % 25 == 0

    page.get_by_test_id("sort-select").select_option("skills")
    by_skills = [r["talent_id"] for r in expected("skills")]
    # else the wait below would pass before the page re-sorted
    assert by_skills != [r["talent_id"] for r in by_score]
    page.wait_for_function(
        "ids => Array.from(document.querySelectorAll('[data-testid=match-card]'))"
        ".map(c => c.getAttribute('data-talent-id')).join() === ids.join()",
        arg=by_skills,
    )

    first_talent = by_skills[0]
    shortlist = cards.first.get_by_test_id("feedback-shortlisted")
    shortlist.click()
    page.wait_for_function(
        "el => el.getAttribute('aria-pressed') === 'true'", arg=shortlist.element_handle()
    )
    assert feedback_rows(market.url, first_talent, job_id, "shortlisted") == [
        ("company", owner.user_id)
    ]

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "company-dashboard.png"), full_page=False)


def test_a_wrong_password_is_shown_and_nothing_is_read(
    page: Any, page_url: str, api: PostgrestDouble, market: Market
) -> None:
    page.goto(f"{page_url}?url={api.base_url}&key={api.anon_key}")
    # the form says where the password goes, and the key left the address bar
    host = page.get_by_test_id("signin-host")
    assert api.base_url is not None and api.base_url.split("://")[1] in host.inner_text()
    assert "key=" not in page.url
    page.get_by_test_id("signin-email").fill(market.talent.email)
    page.get_by_test_id("signin-password").fill("not-the-password")
    page.get_by_test_id("signin-submit").click()
    error = page.get_by_test_id("signin-error")
    error.wait_for(timeout=15_000)
    assert "invalid" in error.inner_text().lower()
    assert page.get_by_test_id("match-card").count() == 0


def test_fallback_scores_are_marked_estimated_and_a_rate_limit_says_when_to_retry(
    page: Any, page_url: str, api: PostgrestDouble, market: Market, db_url: str
) -> None:
    """A talent the worker has not scored yet is served the rule-based scores,
    which the page marks as estimates; a request over the rate limit shows
    PostgREST's 429 with its retry hint on the card, and records nothing."""
    talent = market.second_talent
    talent_id = talent.entity_ids[0]
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("delete from public.matches where talent_id = %s", (talent_id,))
        before = conn.execute(
            "select rate_limit_requests, rate_limit_window_seconds from matching.api_settings"
        ).fetchone()
        # two counted requests a day: the page's get_my_context and its read
        # of the matches; the feedback click is the third
        conn.execute(
            "update matching.api_settings set rate_limit_requests = 2,"
            " rate_limit_window_seconds = 86400"
        )
    try:
        sign_in(page, page_url, api, talent.email)
        cards = page.get_by_test_id("talent-view").get_by_test_id("match-card")
        cards.first.wait_for(timeout=30_000)
        cards.first.get_by_test_id("feedback-interested").click()
        error = cards.first.get_by_test_id("card-error")
        error.wait_for(timeout=15_000)
        assert re.search(r"retry in \d+ seconds", error.inner_text()), error.inner_text()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "talent-dashboard-estimated.png"))
    finally:
        with psycopg.connect(db_url, autocommit=True) as conn:
            conn.execute(
                "update matching.api_settings set rate_limit_requests = %s,"
                " rate_limit_window_seconds = %s",
                before,
            )
    expected = served(
        market.url,
        str(talent.user_id),
        "select job_id::text, source from public.get_talent_matches(%s, p_limit => 50)",
        (talent_id,),
    )
    assert {r["source"] for r in expected} == {"fallback"}
    assert [cards.nth(i).get_attribute("data-job-id") for i in range(cards.count())] == [
        r["job_id"] for r in expected
    ]
    assert cards.first.get_by_test_id("source-estimated").count() == 1
    assert feedback_rows(market.url, talent_id, expected[0]["job_id"], "interested") == []
