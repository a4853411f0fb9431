"""`Float4Rows`: a float matrix reaches Postgres as the float32 values it
holds, bit for bit, and the query's slices give back each row."""

from __future__ import annotations

import numpy as np
import pytest

from matching.db.float4 import Float4Rows


def _bits(values: np.ndarray) -> list[int]:
    return np.asarray(values, dtype=np.float32).view(np.uint32).tolist()


def test_every_float32_value_arrives_bit_for_bit_and_rows_slice_back(conn) -> None:
    rng = np.random.default_rng(3)
    special = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45, -1e-45, 3.4028235e38, 0.1, -2.5]
    m = rng.standard_normal((7, 6)).astype(np.float32)
    m.reshape(-1)[: len(special)] = special
    width = m.shape[1]
    rows = conn.execute(
        "select (%(m)b::real[])[(k - 1) * %(w)s + 1 : k * %(w)s]"
        " from generate_series(1, %(n)s) k order by k",
        {"m": Float4Rows(m), "w": width, "n": len(m)},
    ).fetchall()
    assert len(rows) == len(m)
    for k, (row,) in enumerate(rows):
        assert _bits(row) == _bits(m[k])


def test_float64_values_are_rounded_to_float32_as_numpy_rounds_them(conn) -> None:
    # SHAP contributions are float64: the stored real is their float32 rounding
    values = np.random.default_rng(4).standard_normal((3, 5)) * 1e-3
    (stored,) = conn.execute("select %b::real[]", (Float4Rows(values),)).fetchone()
    assert _bits(stored) == _bits(values.astype(np.float32).reshape(-1))


def test_an_empty_matrix_is_an_empty_array(conn) -> None:
    (stored,) = conn.execute(
        "select %b::real[]", (Float4Rows(np.zeros((0, 4), dtype=np.float32)),)
    ).fetchone()
    assert stored == []


def test_only_a_matrix_is_accepted() -> None:
    with pytest.raises(ValueError, match=r"\(n, width\)"):
        Float4Rows(np.zeros(4))
