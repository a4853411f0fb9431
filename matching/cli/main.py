"""`matching` command line: database, migrations, synthetic data, demo, worker, client types."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence

import psycopg
import pydantic

from matching.db import embedded
from matching.db.connection import resolve_url
from matching.db.migrate import MigrationError, apply_auth_shim_if_missing, migrate
from matching.queues import QUEUES
from matching.settings import Settings, get_settings
from matching.synthetic.seed import SeedError, seed

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class CommandError(RuntimeError):
    """An expected failure: printed as one clear line, exit code 1."""


def say(message: str) -> None:
    print(message, flush=True)


def _bounded_int(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}, got {value}")
        return value

    return parse


def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    if settings.database_url and args.action in ("start", "stop"):
        raise CommandError(
            "DATABASE_URL is set, so the embedded server is not used; unset it to manage it"
        )
    if args.action == "start":
        started = time.perf_counter()
        server = embedded.start(settings.pgdata)
        resolve_url(settings)  # creates the application database on first start
        say(f"embedded PostgreSQL running (pid {server.pid}, data in {settings.pgdata})")
        say(f"ready in {time.perf_counter() - started:.1f} s")
    elif args.action == "stop":
        stopped = embedded.stop(settings.pgdata)
        say("embedded PostgreSQL stopped" if stopped else "embedded PostgreSQL was not running")
    elif args.action == "status":
        if settings.database_url:
            say("using DATABASE_URL (embedded server not in use)")
            return EXIT_OK
        status = embedded.status(settings.pgdata)
        if status.running:
            say(f"running (pid {status.pid}, data in {settings.pgdata})")
        else:
            say(f"not running (data in {settings.pgdata})")
            return 3  # like `pg_ctl status`: not running is not success
    elif args.action == "shim":
        with psycopg.connect(resolve_url(settings), autocommit=True) as conn:
            applied = apply_auth_shim_if_missing(conn, settings.auth_shim)
        say(
            "applied the plain-Postgres auth shim"
            if applied
            else "the database has an auth schema (Supabase, or shimmed before): nothing to do"
        )
    elif args.action == "url":
        if settings.database_url:
            say(settings.database_url)
        else:
            status = embedded.status(settings.pgdata)
            if not status.running:
                raise CommandError("the embedded server is not running; run `matching db start`")
            say(status.url(settings.embedded_database))
    return EXIT_OK


def _progress(message: str) -> None:
    # warnings (skipped files, out-of-order versions) go to stderr, like the CLI's
    if message.startswith("warning:"):
        print(message, file=sys.stderr, flush=True)
    else:
        say(f"  {message}")


def _migrate(settings: Settings) -> str:
    url = resolve_url(settings)
    report = migrate(url, settings, progress=_progress)
    if not report.applied:
        say(f"migrations: up to date ({len(report.already_applied)} applied earlier)")
    else:
        say(f"migrations: applied {len(report.applied)}, {len(report.already_applied)} earlier")
    return url


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    _migrate(settings)
    return EXIT_OK


def cmd_seed(args: argparse.Namespace, settings: Settings) -> int:
    url = resolve_url(settings)
    started = time.perf_counter()
    report = seed(
        url,
        seed=args.seed if args.seed is not None else settings.seed,
        n_talents=args.talents,
        n_jobs=args.jobs,
        n_companies=args.companies,
        replace=args.replace,
        progress=say,
    )
    wall = time.perf_counter() - started
    say(
        f"seeded {report.counts.get('talents', 0):,} talents, {report.counts.get('jobs', 0):,}"
        f" jobs, {report.counts.get('companies', 0):,} companies,"
        f" {report.counts.get('skills', 0):,} skills"
    )
    say(
        f"wall time {wall:.1f} s (generate {report.generate_seconds:.1f} s,"
        f" load {report.load_seconds:.1f} s)"
    )
    return EXIT_OK


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from matching.cli.demo import DemoError, run_demo

    if settings.database_url:
        say("database: DATABASE_URL")
    else:
        server = embedded.start(settings.pgdata)
        say(f"database: embedded PostgreSQL (pid {server.pid}, data in {settings.pgdata})")
    try:
        run_demo(resolve_url(settings), settings, say)
    except DemoError as exc:
        raise CommandError(str(exc)) from exc
    return EXIT_OK


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    if args.check:
        return check_worker(settings)
    from worker.main import WorkerGaveUp, run

    resolve_url(settings)  # start the embedded server first when it is the database
    say("worker starting (Ctrl-C to stop)")
    try:
        run(settings, args.queues, args.concurrency or settings.worker_concurrency)
    except WorkerGaveUp as exc:
        raise CommandError(f"worker gave up: {exc}") from exc
    return EXIT_OK


def check_worker(settings: Settings) -> int:
    """`matching worker --check`: ask the local worker's /healthz (for container
    health checks). Exit 0 when healthy, else 1 with its reason on one line."""
    import json
    import urllib.error
    import urllib.request

    port = settings.metrics_port
    if port <= 0:
        raise CommandError("the health check needs the metrics port (MATCHING_METRICS_PORT > 0)")
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            body = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        body = json.loads(exc.read() or b"{}")
        raise CommandError(f"worker unhealthy: {body.get('reason', exc.code)}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise CommandError(f"no worker answers on port {port}: {reason}") from None
    say(f"worker healthy: {body.get('reason', 'ok')}")
    return EXIT_OK


def cmd_train(args: argparse.Namespace, settings: Settings) -> int:
    from matching.training.initial import TrainingQualityError, train_initial_model

    url = resolve_url(settings)
    if not args.synthetic:
        from matching.training.retrain import TrainingPipeline

        run = TrainingPipeline(url, settings).run_training(force=True, trigger="cli", progress=say)
        m = run.metrics
        if m.get("candidate"):
            say(f"candidate on held-out feedback: {m['candidate']}")
            say(f"active model on the same rows: {m['active']}")
        say(f"run {run.run_id}: {run.status} - {run.reason}")
        if run.status == "activated":
            say(f"model {run.candidate_version} activated; matches re-rank in the background")
        return EXIT_OK if run.status in ("activated", "rejected") else EXIT_FAILED
    try:
        report = train_initial_model(
            url,
            n_pairs=args.pairs,
            folds=args.folds,
            seed=args.seed,
            activate=not args.no_activate,
            progress=say,
        )
    except (TrainingQualityError, ValueError) as exc:
        raise CommandError(str(exc)) from exc
    m = report.metrics
    say(
        f"validation RMSE {m['holdout_rmse']:.2f}, MAE {m['holdout_mae']:.2f}"
        f" (mean baseline {m['baseline_mean_rmse']:.2f}, random {m['baseline_random_rmse']:.2f})"
    )
    state = "registered and activated" if report.activated else "registered (not active)"
    say(f"model {report.version} {state} in {report.seconds:.1f} s")
    return EXIT_OK


def cmd_models(args: argparse.Namespace, settings: Settings) -> int:
    from matching.scoring import registry

    url = resolve_url(settings)
    with psycopg.connect(url, autocommit=True) as conn:
        if args.action == "list":
            models = registry.list_models(conn)
            if not models:
                say("no models registered; run `matching train --synthetic`")
            for m in models:
                rmse = m.metrics.get("holdout_rmse")
                say(
                    f"{'*' if m.is_active else ' '} {m.version:<40}"
                    f" trained {m.trained_at:%Y-%m-%d %H:%M}"
                    f"  samples {m.training_samples:>7,}"
                    + (f"  rmse {rmse:.2f}" if isinstance(rmse, int | float) else "")
                )
        elif args.action == "activate":
            if not args.version:
                raise CommandError("activate needs a version: `matching models activate VERSION`")
            say(f"active model: {registry.activate(conn, args.version)}")
        elif args.action == "rollback":
            say(f"rolled back; active model: {registry.rollback(conn)}")
    return EXIT_OK


def _write_generated(relative: str, text: str, check: bool, command: str) -> int:
    """Write a file generated from the code or the database, or with `check`
    only say whether the committed one is current (exit 1 when stale)."""
    from matching.settings import project_root

    path = project_root() / relative
    if check:
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != text:
            raise CommandError(f"{relative} is out of date; run `{command}`")
        say(f"{relative} is current")
        return EXIT_OK
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    say(f"wrote {relative}")
    return EXIT_OK


def cmd_docs(args: argparse.Namespace, settings: Settings) -> int:
    from matching.features.docs import FEATURES_DOC, features_markdown

    return _write_generated(
        str(FEATURES_DOC), features_markdown(), args.check, "matching docs features"
    )


def cmd_client(args: argparse.Namespace, settings: Settings) -> int:
    """`matching client generate [--check]`: the TypeScript client's types, from the database."""
    from matching.clientgen import GENERATED_FILE, ClientGenError, generate

    with psycopg.connect(resolve_url(settings), autocommit=True) as conn:
        try:
            text = generate(conn, settings.migrations_dir)
        except ClientGenError as exc:
            raise CommandError(str(exc)) from exc
    return _write_generated(str(GENERATED_FILE), text, args.check, "matching client generate")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="matching",
        description="Postgres-native talent <-> job matching engine.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    db = sub.add_parser(
        "db",
        help="manage the embedded PostgreSQL (when DATABASE_URL is unset); `shim` applies"
        " the plain-Postgres auth shim to the database in use",
    )
    db.add_argument("action", choices=("start", "stop", "status", "url", "shim"))
    db.set_defaults(func=cmd_db)

    mig = sub.add_parser("migrate", help="apply pending migrations (safe to repeat)")
    mig.set_defaults(func=cmd_migrate)

    sd = sub.add_parser("seed", help="load a synthetic marketplace with COPY")
    sd.add_argument("--talents", type=_bounded_int(0, 2_000_000), default=1500)
    sd.add_argument("--jobs", type=_bounded_int(0, 500_000), default=300)
    sd.add_argument(
        "--companies",
        type=_bounded_int(1, 200_000),
        default=None,
        help="default: max(60, jobs / 5)",
    )
    sd.add_argument("--seed", type=_bounded_int(0, 2**32 - 1), default=None)
    sd.add_argument(
        "--replace",
        action="store_true",
        help="empty the marketplace tables first (otherwise a non-empty database is an error)",
    )
    sd.set_defaults(func=cmd_seed)

    demo = sub.add_parser("demo", help="start the database, migrate and seed (safe to repeat)")
    demo.set_defaults(func=cmd_demo)

    tr = sub.add_parser(
        "train", help="retrain from feedback behind the gate, or --synthetic for the initial model"
    )
    tr.add_argument("--synthetic", action="store_true", help="learn from synthetic pairs")
    tr.add_argument("--pairs", type=_bounded_int(100, 1_000_000), default=6000)
    tr.add_argument("--folds", type=_bounded_int(2, 10), default=5)
    tr.add_argument("--seed", type=_bounded_int(0, 2**32 - 1), default=42)
    tr.add_argument("--no-activate", action="store_true", help="register only")
    tr.set_defaults(func=cmd_train)

    models = sub.add_parser("models", help="list, activate or roll back model versions")
    models.add_argument("action", choices=("list", "activate", "rollback"))
    models.add_argument("version", nargs="?")
    models.set_defaults(func=cmd_models)

    docs = sub.add_parser("docs", help="regenerate documentation derived from the code")
    docs.add_argument("what", choices=("features",))
    docs.add_argument("--check", action="store_true", help="fail if the file is out of date")
    docs.set_defaults(func=cmd_docs)

    client = sub.add_parser(
        "client", help="generate the TypeScript client's types from the (migrated) database"
    )
    client.add_argument("action", choices=("generate",))
    client.add_argument("--check", action="store_true", help="fail if the file is out of date")
    client.set_defaults(func=cmd_client)

    wk = sub.add_parser("worker", help="run the procrastinate worker")
    wk.add_argument(
        "--queue",
        dest="queues",
        action="append",
        # a worker on a queue nobody enqueues to would wait forever, silently
        choices=QUEUES,
        help="queue to listen on (repeatable; default: all). --queue rematch alone"
        " makes an edit lane: edits only, never a bulk re-rank batch",
    )
    wk.add_argument("--concurrency", type=_bounded_int(1, 64), default=None)
    wk.add_argument(
        "--check",
        action="store_true",
        help="ask the running worker's /healthz (metrics port) instead of starting one",
    )
    wk.set_defaults(func=cmd_worker)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = get_settings()
        return int(args.func(args, settings))
    except (CommandError, MigrationError, SeedError, embedded.EmbeddedPostgresError) as exc:
        print(f"error: {exc}", file=sys.stderr)
    except pydantic.ValidationError as exc:
        print(f"error: invalid configuration: {exc}", file=sys.stderr)
    except psycopg.OperationalError as exc:
        print(f"error: cannot reach the database: {exc}", file=sys.stderr)
    except psycopg.errors.InsufficientPrivilege as exc:
        print(f"error: permission denied: {exc.diag.message_primary}", file=sys.stderr)
    except psycopg.Error as exc:
        if not (exc.sqlstate and exc.sqlstate.startswith("MT")):
            raise
        # our own validation codes: the message is written for people
        print(f"error [{exc.sqlstate}]: {exc.diag.message_primary}", file=sys.stderr)
    except KeyboardInterrupt:
        return 130
    return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
