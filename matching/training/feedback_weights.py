"""How much one feedback row counts: bounded per account, corrected for position.

Two corrections, multiplied into one weight per row:

* **Bounded influence per account.** Every account's rows together weigh at
  most `max_share` of the total (default 5 %). Heavy accounts are scaled down
  to a common cap ("water filling"); light accounts keep weight 1 per row. One
  recruiter writing thousands of rows then counts like one of twenty accounts
  at most, however hard they click.
* **Position bias.** Users look at the top of a list. Under the position-based
  examination model a pair shown at rank r is examined with probability
  p(r) = r^-eta (eta = 1 by default, the classic click-model fit of Joachims et
  al.); its feedback stands for 1/p(r) pairs like it, so it is weighted by
  r^eta, clipped at `max_weight` to bound the variance. A pair whose rank is
  unknown (feedback given without a served list) gets weight 1, as if shown
  first: the conservative choice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]


def examination_weights(ranks: Sequence[int | None], eta: float, max_weight: float) -> F64:
    """Inverse examination propensity of each row's shown rank (1 = top)."""
    r = np.array([1.0 if v is None or v < 1 else float(v) for v in ranks], dtype=np.float64)
    return np.minimum(r**eta, max_weight)


def account_caps(accounts: Sequence[Any], base: F64, max_share: float) -> F64:
    """Per-row factor (<= 1) so no account's weight exceeds `max_share` of the
    total. With fewer than 1/max_share accounts the cap can't be met: then all
    accounts weigh the same (the retraining refuses to run before that)."""
    if len(accounts) == 0:
        return np.ones(0)
    keys, inverse = np.unique(np.array([str(a) for a in accounts]), return_inverse=True)
    totals = np.bincount(inverse, weights=base, minlength=len(keys))
    if len(keys) * max_share <= 1.0:
        cap = float(totals.min()) if len(totals) else 0.0
    else:
        # the cap c solves c = share * (sum of min(total, c)); iterate over the
        # set of capped accounts, which only grows, so this ends in <= n steps
        capped = np.zeros(len(keys), dtype=bool)
        while True:
            cap = max_share * totals[~capped].sum() / (1.0 - max_share * capped.sum())
            grown = totals > cap
            if np.array_equal(grown, capped):
                break
            capped = grown
    factor = np.where(totals > cap, cap / np.maximum(totals, 1e-12), 1.0)
    return factor[inverse]


def feedback_weights(
    accounts: Sequence[Any],
    ranks: Sequence[int | None],
    *,
    max_share: float,
    eta: float,
    max_weight: float,
) -> F64:
    """One weight per row, scaled to mean 1 (LightGBM's gradients keep scale)."""
    base = examination_weights(ranks, eta, max_weight)
    w = base * account_caps(accounts, base, max_share)
    return w / w.mean() if len(w) else w
