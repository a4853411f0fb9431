"""Python mirror of the SQL fallback scorer (`matching.fallback_score_pairs`).

Production scores come from SQL, which works with no Python running. This
mirror exists for two jobs only: labelling synthetic pairs for the initial
model, and checking parity with the SQL (tests/db/test_fallback_parity.py keeps
them equal to 1e-6). It reads the same features as the model, computed in
float64, and combines them with the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from matching.features.extraction import (
    FEATURE_INDEX,
    REMOTE_POLICIES,
    JobFrame,
    TalentFrame,
    extract_pair_features,
)
from matching.models import RemotePolicy

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

#: Category weights of the overall score (they sum to 1). Text similarity
#: weighs 0.20: in a market where only the text tells jobs apart it alone
#: orders the list, and it never outweighs skills.
WEIGHTS: dict[str, float] = {
    "skills": 0.30,
    "experience": 0.15,
    "location": 0.15,
    "salary": 0.10,
    "culture": 0.10,
    "semantic": 0.20,
}
#: Cosine similarity of the two texts mapped linearly onto the semantic
#: sub-score: at or below SEMANTIC_FLOOR it reads 0, at or above
#: SEMANTIC_FULL 100 (all-MiniLM-L6-v2 puts unrelated profile/job texts near
#: the floor and a profile and the job written for it near the top). Without
#: an embedding the sub-score is a neutral 50.
SEMANTIC_FLOOR = 0.2
SEMANTIC_FULL = 0.8
#: Each failed hard constraint multiplies the score by this.
CONSTRAINT_FACTOR = 0.8
ONSITE_LIMIT_KM = 100.0
HYBRID_LIMIT_KM = 300.0
SALARY_RATIO_LIMIT = 1.2

_ONSITE = REMOTE_POLICIES.index(RemotePolicy.ONSITE)
_HYBRID = REMOTE_POLICIES.index(RemotePolicy.HYBRID)


@dataclass(frozen=True)
class FallbackScores:
    """Scores of n pairs: `score` and each sub-score are arrays of length n."""

    score: F64
    sub_scores: dict[str, F64]
    failed_constraints: list[list[str]]
    #: per pair, the categories with no data behind them (their sub-score is
    #: a neutral 50 and no reason may cite them)
    unscored: list[list[str]]


class FallbackMatcher:
    """Rule-based scores for (talent, job) pairs, as `matching.fallback_score_pairs`."""

    def score_pairs(
        self,
        talents: TalentFrame,
        jobs: JobFrame,
        talent_rows: I64,
        job_rows: I64,
        *,
        semantic: F64 | None = None,
        reasons: bool = True,
    ) -> FallbackScores:
        """Scores of pairs (talents[talent_rows[k]], jobs[job_rows[k]]).

        `semantic` is the cosine similarity of each pair's embeddings (NaN where
        one is missing); without it the text term is neutral, which leaves the
        structured rules alone. `reasons=False` skips writing the constraint
        sentences (the scores are the same); labelling millions of pairs needs
        only the numbers.
        """
        x = extract_pair_features(talents, jobs, talent_rows, job_rows, semantic, dtype=np.float64)

        def f(name: str) -> F64:
            return x[:, FEATURE_INDEX[name]]

        skills = 100.0 * (
            0.5 * f("required_coverage")
            + 0.25 * f("proficiency_alignment")
            + 0.25 * f("skill_jaccard")
        )
        experience = 100.0 * np.minimum(
            1.0,
            np.maximum(
                0.0,
                0.5 * f("seniority_alignment")
                + 0.5 * (1.0 - f("level_distance") / 4.0)
                - 0.5 * f("underqualified_penalty")
                - 0.25 * f("overqualified_penalty"),
            ),
        )
        location = 100.0 * (
            0.4 * f("remote_compatibility") + 0.4 * f("commute_fit") + 0.2 * f("timezone_overlap")
        )
        salary_missing = f("salary_missing") > 0
        affordability = np.minimum(
            1.0, np.maximum(0.0, 1.0 - 2.0 * np.maximum(0.0, f("salary_ratio") - 1.0))
        )
        salary = np.where(
            salary_missing, 50.0, 100.0 * (0.4 * f("salary_iou") + 0.6 * affordability)
        )
        culture = (
            100.0
            * (f("industry_match") + f("company_size_match") + f("work_style_alignment"))
            / 3.0
        )
        semantic_missing = f("semantic_missing") > 0
        semantic_score = np.where(
            semantic_missing,
            50.0,
            100.0
            * np.clip(
                (f("semantic_similarity") - SEMANTIC_FLOOR) / (SEMANTIC_FULL - SEMANTIC_FLOOR),
                0.0,
                1.0,
            ),
        )

        checks, n_required = self._checks(x, talents, jobs, talent_rows, job_rows)
        n_failed = np.sum(checks, axis=0).astype(np.float64)
        failed = (
            self._reasons(x, checks, n_required, jobs, talents, talent_rows, job_rows)
            if reasons
            else [[] for _ in range(len(talent_rows))]
        )
        weighted = (
            WEIGHTS["skills"] * skills
            + WEIGHTS["experience"] * experience
            + WEIGHTS["location"] * location
            + WEIGHTS["salary"] * salary
            + WEIGHTS["culture"] * culture
            + WEIGHTS["semantic"] * semantic_score
        )
        score = np.minimum(100.0, np.maximum(0.0, weighted * np.power(CONSTRAINT_FACTOR, n_failed)))
        return FallbackScores(
            score=score,
            sub_scores={
                "skills": skills,
                "experience": experience,
                "location": location,
                "salary": salary,
                "culture": culture,
                "semantic": semantic_score,
            },
            failed_constraints=failed,
            unscored=_unscored(x),
        )

    @staticmethod
    def _checks(
        x: NDArray[np.float64],
        talents: TalentFrame,
        jobs: JobFrame,
        talent_rows: I64,
        job_rows: I64,
    ) -> tuple[NDArray[np.bool_], F64]:
        """One boolean row per hard constraint (in the SQL's order), True = failed."""

        def f(name: str) -> F64:
            return x[:, FEATURE_INDEX[name]]

        # With weights bincount sums floats; numpy's stubs only know the int case.
        n_required = np.bincount(
            np.repeat(np.arange(len(jobs), dtype=np.int64), jobs.skills.counts),
            weights=jobs.skills.b,
            minlength=len(jobs),
        ).astype(np.float64, copy=False)[job_rows]
        km = f("distance_km")
        located = f("location_missing") == 0
        policy = jobs.remote_policy[job_rows]
        level_gap = jobs.level[job_rows] - talents.level[talent_rows]
        checks = np.array(
            [
                (n_required > 0) & (f("required_coverage") < 0.5),
                (policy == _ONSITE) & located & (km > ONSITE_LIMIT_KM),
                (policy == _HYBRID) & located & (km > HYBRID_LIMIT_KM),
                f("remote_compatibility") <= 0.1,
                (f("salary_missing") == 0) & (f("salary_ratio") > SALARY_RATIO_LIMIT),
                level_gap >= 2,
            ],
            dtype=np.bool_,
        ).reshape(6, len(job_rows))
        return checks, n_required

    @staticmethod
    def _reasons(
        x: NDArray[np.float64],
        checks: NDArray[np.bool_],
        n_required: F64,
        jobs: JobFrame,
        talents: TalentFrame,
        talent_rows: I64,
        job_rows: I64,
    ) -> list[list[str]]:
        """The failed constraints as sentences, worded exactly like the SQL."""
        coverage = x[:, FEATURE_INDEX["required_coverage"]]
        km = x[:, FEATURE_INDEX["distance_km"]]
        level_gap = jobs.level[job_rows] - talents.level[talent_rows]
        out: list[list[str]] = [[] for _ in range(len(talent_rows))]
        for k in np.flatnonzero(checks.any(axis=0)):
            reasons = out[k]
            if checks[0, k]:
                missing = round(n_required[k] - coverage[k] * n_required[k])
                reasons.append(f"missing {missing} of {round(n_required[k])} required skills")
            if checks[1, k]:
                reasons.append(f"on-site job {int(np.floor(km[k]))} km away")
            if checks[2, k]:
                reasons.append(f"hybrid job {int(np.floor(km[k]))} km away")
            if checks[3, k]:
                reasons.append("wants remote work, job is on-site")
            if checks[4, k]:
                reasons.append("salary expectation above range")
            if checks[5, k]:
                reasons.append(f"under-qualified by {int(level_gap[k])} levels")
        return out


def _unscored(x: NDArray[np.float64]) -> list[list[str]]:
    """Categories without data, in the SQL's order: skills when either side lists
    none, salary when a range is missing, culture when there is no stated
    preference and no work style to compare, semantic without an embedding."""

    def f(name: str) -> F64:
        return x[:, FEATURE_INDEX[name]]

    flags = np.array(
        [
            f("skills_missing") > 0,
            f("salary_missing") > 0,
            (f("industry_match") == 0.5)
            & (f("company_size_match") == 0.5)
            & (f("work_style_alignment") == 0.5),
            f("semantic_missing") > 0,
        ]
    ).reshape(4, len(x))
    names = ("skills", "salary", "culture", "semantic")
    return [[names[c] for c in range(4) if flags[c, k]] for k in range(len(x))]
