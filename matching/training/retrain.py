"""Retraining from feedback, behind the activation gate; every run is recorded.

A run is a row of `matching.training_runs` from its start, so a crash leaves
a `failed` trace, and ends in one of: skipped (not due, or too little
evidence to judge a candidate), rejected (the candidate did not clearly beat
the active model and chance on held-out feedback) or activated.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import psycopg
from numpy.typing import NDArray
from psycopg.rows import scalar_row
from psycopg.types.json import Jsonb

from matching.db import queries
from matching.features.extraction import N_FEATURES
from matching.scoring import registry
from matching.scoring.model import MatchingModel
from matching.training import gate
from matching.training.evaluation import evaluate_lists, rmse
from matching.training.feedback import (
    FEEDBACK_LABELS,
    FeedbackData,
    TimeSplit,
    feedback_training_data,
    time_split,
    training_weights,
)

if TYPE_CHECKING:
    from matching.settings import Settings

__all__ = ["RetrainReport", "TrainingPipeline"]

Progress = Callable[[str], None]


@dataclass
class RetrainReport:
    run_id: int
    status: str
    reason: str
    candidate_version: str | None = None
    previous_version: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


class TrainingPipeline:
    """Retrain from feedback, behind an evaluation gate; every run is recorded."""

    def __init__(self, url: str, settings: Settings | None = None) -> None:
        from matching.settings import get_settings

        self.url = url
        self.settings = settings or get_settings()

    def run_training(
        self, force: bool = False, trigger: str = "cli", progress: Progress | None = None
    ) -> RetrainReport:
        say = progress or (lambda _msg: None)
        started = time.perf_counter()
        with psycopg.connect(self.url, autocommit=True) as conn:
            with conn.cursor(row_factory=scalar_row) as cur:
                run_id: int | None = cur.execute(
                    queries.query("start_training_run"), {"trigger": trigger}
                ).fetchone()
            assert run_id is not None, "insert ... returning gives one row"
            try:
                report = self._run(conn, run_id, force, say)
            except Exception as exc:
                self._finish(conn, run_id, "failed", f"{type(exc).__name__}: {exc}"[:2000], {})
                raise
        report.seconds = time.perf_counter() - started
        return report

    def _run(
        self, conn: psycopg.Connection[Any], run_id: int, force: bool, say: Progress
    ) -> RetrainReport:
        s = self.settings
        if not force:
            with conn.cursor(row_factory=scalar_row) as cur:
                last: datetime | None = cur.execute(
                    queries.query("last_feedback_training")
                ).fetchone()
            if last is not None and (datetime.now(UTC) - last).days < s.retrain_interval_days:
                reason = (
                    f"not due: last training {last:%Y-%m-%d %H:%M} UTC, schedule is every"
                    f" {s.retrain_interval_days} days (force to train now)"
                )
                return self._finish(conn, run_id, "skipped", reason, {})
        data = feedback_training_data(conn)
        n = len(data.y)
        say(
            f"{n:,} feedback pairs ({data.from_snapshot:,} from snapshots,"
            f" {data.recomputed:,} recomputed) from {data.distinct_accounts:,} accounts"
        )
        if n < s.retrain_min_samples:
            reason = f"too few feedback samples: {n} pairs, need at least {s.retrain_min_samples}"
            return self._finish(conn, run_id, "skipped", reason, {"sample_count": n})
        if data.distinct_accounts < s.retrain_min_accounts:
            reason = (
                f"too few distinct accounts: {data.distinct_accounts} gave feedback, need at"
                f" least {s.retrain_min_accounts} (one account's feedback can't decide a model)"
            )
            return self._finish(
                conn,
                run_id,
                "skipped",
                reason,
                {"sample_count": n, "accounts": data.distinct_accounts},
            )

        split = time_split(data)
        skipped = self._too_little_evidence(data, split)
        if skipped is not None:
            return self._finish(conn, run_id, "skipped", skipped, {"sample_count": n})
        active = registry.load_active(conn)
        version = registry.new_version("feedback")
        params = dict(active.metadata.params) if active is not None else {}
        params = {k: v for k, v in params.items() if k != "best_iteration"}
        candidate = MatchingModel.train(
            data.x[split.train],
            data.y[split.train],
            version=version,
            params=params,
            weight=training_weights(data, split.train, s),
        )
        return self.evaluate_and_decide(conn, run_id, candidate, data, split, say)

    def _too_little_evidence(self, data: FeedbackData, split: TimeSplit) -> str | None:
        """Why the held-out feedback can't judge a candidate, or None."""
        s = self.settings
        lists = gate.usable_lists(data.talent_group, data.job_group, data.y, split.validation)
        if len(lists) < s.retrain_min_lists:
            return (
                f"too few usable held-out lists: {len(lists)} (talent or job lists with >= 2"
                f" rows and >= 2 distinct labels among the newest {len(split.validation)}"
                f" pairs), need at least {s.retrain_min_lists}"
            )
        accounts = {data.accounts[i] for i in split.validation} - {None}
        if len(accounts) < min(s.retrain_min_accounts, 2):
            return f"held-out feedback comes from {len(accounts)} account(s): not evidence"
        return None

    def _reference_pairs(
        self, conn: psycopg.Connection[Any], data: FeedbackData
    ) -> NDArray[np.float32]:
        """Feature rows of a fixed sample of current pairs (stored matches in
        `tiebreak` order, a pseudo-random but stable order); the held-out
        feedback stands in on a database with no stored features yet."""
        with conn.cursor(row_factory=scalar_row) as cur:
            rows: list[list[float]] = cur.execute(
                queries.query("reference_pair_features"),
                {"n_features": N_FEATURES, "limit": self.settings.retrain_reference_pairs},
            ).fetchall()
        if len(rows) >= 10:
            return np.asarray(rows, dtype=np.float32)
        return data.x

    def evaluate_and_decide(
        self,
        conn: psycopg.Connection[Any],
        run_id: int,
        candidate: MatchingModel,
        data: FeedbackData,
        split: TimeSplit,
        say: Progress | None = None,
    ) -> RetrainReport:
        """The gate. On the same held-out lists from both sides, the lower
        one-sided confidence bound of the candidate's NDCG@10 gain (paired
        bootstrap over lists) must be strictly above the margin, raised when
        the candidate drifts far from the active model's scores."""
        say = say or (lambda _msg: None)
        s = self.settings
        skipped = self._too_little_evidence(data, split)
        if skipped is not None:
            return self._finish(conn, run_id, "skipped", skipped, {"sample_count": len(data.y)})
        active = registry.load_active(conn)
        ev = evaluate_lists(candidate, active, data, split.validation, s)
        val = split.validation
        cand_metrics: dict[str, Any] = {
            **ev.summary(ev.candidate),
            "rmse": rmse(candidate.predict(data.x[val]), data.y[val]),
        }
        metrics: dict[str, Any] = {
            "candidate": cand_metrics,
            "active": None,
            "n_train": len(split.train),
            "n_validation": len(val),
            "validation_from": data.decided_at[int(val[0])].isoformat(),
            "lists": {
                "talent": int((ev.lists.side == "talent").sum()),
                "job": int((ev.lists.side == "job").sum()),
            },
            "accounts": data.distinct_accounts,
            "from_snapshot": data.from_snapshot,
            "recomputed": data.recomputed,
            "labels": FEEDBACK_LABELS,
            "margin": s.retrain_margin,
            "confidence": s.retrain_confidence,
            "max_account_share": s.retrain_max_account_share,
            "propensity_eta": s.retrain_propensity_eta,
        }
        # the candidate must beat chance with evidence, whatever the active model
        over_chance, chance_lower = gate.paired_bootstrap_lower(
            ev.candidate - ev.chance,
            ev.list_weights,
            confidence=s.retrain_confidence,
            samples=s.retrain_bootstrap_samples,
            seed=run_id + 1,
        )
        metrics.update(
            chance_ndcg_at_10=ev.summary(ev.chance)["ndcg_at_10"],
            gain_over_chance=round(over_chance, 5),
            gain_over_chance_lower_bound=round(chance_lower, 5),
        )
        if active is None:
            required = s.retrain_margin
            activate = chance_lower > required
            reason = (
                f"no active model; NDCG@10 {over_chance:+.4f} over chance on {len(ev.lists)}"
                f" held-out lists, {s.retrain_confidence:.0%} lower bound {chance_lower:+.4f}"
                f" {'>' if activate else '<='} required {required:.4f}"
            )
        else:
            metrics["active"] = {
                **ev.summary(ev.active),
                "rmse": rmse(active.predict(data.x[val]), data.y[val]),
            }
            gain, lower = gate.paired_bootstrap_lower(
                ev.candidate - ev.active,
                ev.list_weights,
                confidence=s.retrain_confidence,
                samples=s.retrain_bootstrap_samples,
                seed=run_id,
            )
            reference = self._reference_pairs(conn, data)
            shift = gate.drift(
                candidate.predict(reference),
                active.predict(reference),
                min_rank_correlation=s.retrain_drift_min_rank_correlation,
                max_mean_shift=s.retrain_drift_max_mean_shift,
            )
            required = s.retrain_margin + (s.retrain_drift_extra_margin if shift.exceeded else 0.0)
            metrics.update(
                gain=round(gain, 5),
                gain_lower_bound=round(lower, 5),
                required_gain=required,
                drift=shift.as_dict(),
            )
            activate = lower > required and chance_lower > required
            evidence = (
                f"NDCG@10 gain {gain:+.4f} over {len(ev.lists)} held-out lists"
                f" ({metrics['lists']['talent']} talent, {metrics['lists']['job']} job),"
                f" {s.retrain_confidence:.0%} lower bound {lower:+.4f}"
                f" {'>' if lower > required else '<='} required {required:.4f};"
                f" over chance {over_chance:+.4f}, lower bound {chance_lower:+.4f}"
                f" {'>' if chance_lower > required else '<='} required"
            )
            if shift.exceeded:
                evidence += (
                    f" (drift: rank correlation {shift.rank_correlation:.2f}, mean shift"
                    f" {shift.mean_shift:+.1f} points, so +{s.retrain_drift_extra_margin} required)"
                )
            reason = evidence if activate else f"{evidence}: kept the active model"
        say(reason)
        candidate = candidate.with_metrics(
            {
                "source": "feedback",
                **{f"validation_{k}": v for k, v in cand_metrics.items() if v is not None},
            }
        )
        with conn.transaction():
            registry.register(conn, candidate)
            if activate:
                # activation queues the re-rank of every stored match (rematch_all)
                registry.activate(conn, candidate.version, reason="training")
        return self._finish(
            conn,
            run_id,
            "activated" if activate else "rejected",
            reason,
            {"sample_count": len(data.y), "metrics": metrics},
            candidate=candidate.version,
            previous=active.version if active is not None else None,
        )

    @staticmethod
    def _finish(
        conn: psycopg.Connection[Any],
        run_id: int,
        status: str,
        reason: str,
        details: dict[str, Any],
        candidate: str | None = None,
        previous: str | None = None,
    ) -> RetrainReport:
        conn.execute(
            queries.query("finish_training_run"),
            {
                "status": status,
                "reason": reason,
                "sample_count": details.get("sample_count"),
                "candidate_version": candidate,
                "previous_version": previous,
                "details": Jsonb(details),
                "run_id": run_id,
            },
        )
        return RetrainReport(
            run_id=run_id,
            status=status,
            reason=reason,
            candidate_version=candidate,
            previous_version=previous,
            metrics=details.get("metrics", {}),
        )
