"""The worker keeps the plans of batches it handed back, briefly and few."""

from __future__ import annotations

import uuid

import pytest

from matching.pipeline.batch import Carry
from worker import tasks


def _carry(n: int) -> Carry:
    ids = [uuid.UUID(int=n * 10 + k) for k in range(3)]
    return Carry(kind="talent", ids=ids, plan=None, states={})  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _empty() -> None:
    tasks._CARRIED.clear()


def test_a_carry_is_taken_once_by_exactly_its_kind_and_ids() -> None:
    carry = _carry(1)
    tasks._keep_carry(carry)
    assert tasks._take_carry("job", carry.ids) is None
    assert tasks._take_carry("talent", carry.ids[:2]) is None
    assert tasks._take_carry("talent", carry.ids) is carry
    assert tasks._take_carry("talent", carry.ids) is None


def test_only_the_newest_few_are_kept_and_none_past_its_time(monkeypatch) -> None:
    carries = [_carry(n) for n in range(tasks.CARRY_MAX + 2)]
    for c in carries:
        tasks._keep_carry(c)
    assert len(tasks._CARRIED) == tasks.CARRY_MAX
    assert tasks._take_carry("talent", carries[0].ids) is None
    now = tasks.time.monotonic()
    monkeypatch.setattr(tasks.time, "monotonic", lambda: now + tasks.CARRY_SECONDS + 1)
    assert tasks._take_carry("talent", carries[-1].ids) is None
