"""Settings that choose between two values."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from matching.settings import Settings


def test_job_batches_default_to_the_common_batch_size() -> None:
    s = Settings(rematch_batch_size=8)
    assert (s.bulk_batch_size("talent"), s.bulk_batch_size("job")) == (8, 8)


def test_job_batches_can_be_smaller() -> None:
    s = Settings(rematch_batch_size=8, rematch_job_batch_size=2)
    assert (s.bulk_batch_size("talent"), s.bulk_batch_size("job")) == (8, 2)


@pytest.mark.parametrize("size", [0, 501])
def test_job_batch_size_is_bounded(size: int) -> None:
    with pytest.raises(ValidationError):
        Settings(rematch_job_batch_size=size)
