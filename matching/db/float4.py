"""A float matrix sent to Postgres as one flat `real[]`, in binary.

A bulk re-rank writes ~50 rows of 36 features and 36 contributions per
entity. Written as array literals, each float was formatted by Python and
parsed back by Postgres (a tenth of a talent's write and explain time);
psycopg's own list dumper still walks the floats one by one. `Float4Rows`
builds the binary array format with numpy in one pass, and the query slices
each row back out (query upsert_matches): the values Postgres stores are the
float32 values of the matrix, bit for bit.

float64 values (SHAP contributions) are rounded to float32 by numpy, where
the array literals had Postgres round their shortest decimal form: the two
can differ only at an exact float32 midpoint (none in 300,000 contributions
tried). A value beyond float32's range would be stored as infinity instead
of being refused; no feature or contribution comes near 3.4e38.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np
import psycopg
from numpy.typing import NDArray
from psycopg.adapt import Dumper
from psycopg.pq import Format

_FLOAT4_OID = psycopg.postgres.types["float4"].oid
_FLOAT4_ARRAY_OID = psycopg.postgres.types["float4"].array_oid
#: one element: its length (4 bytes) and its big-endian float4
_ELEMENT = np.dtype([("length", ">i4"), ("value", ">f4")])


class Float4Rows:
    """An (n, width) matrix, rounded to float32, as one flat `real[]` of n * width.

    The query reads row k (0-based) as `values[k * width + 1 : (k + 1) * width]`.
    """

    __slots__ = ("matrix",)

    def __init__(self, matrix: NDArray[np.floating[Any]]) -> None:
        m = np.asarray(matrix, dtype=np.float32)
        if m.ndim != 2:
            raise ValueError(f"Float4Rows needs an (n, width) matrix, got shape {m.shape}")
        self.matrix = m


class Float4RowsDumper(Dumper):
    """Postgres's binary array format: a header, then (length, value) per element."""

    format = Format.BINARY
    oid = _FLOAT4_ARRAY_OID

    def dump(self, obj: Float4Rows) -> bytes:
        flat = obj.matrix.reshape(-1)
        # ndim 1, no nulls, element type, then the dimension: size, lower bound 1
        header = struct.pack(">iiiii", 1, 0, _FLOAT4_OID, flat.size, 1)
        elements = np.empty(flat.size, dtype=_ELEMENT)
        elements["length"] = 4
        elements["value"] = flat
        return header + elements.tobytes()


def register_float4_rows(conn: psycopg.Connection[Any]) -> None:
    """Let `conn` send `Float4Rows`. A connection copies the global adapters
    when it opens, so one opened before this module was imported would not
    know the type: the writer registers it on the connection it uses."""
    conn.adapters.register_dumper(Float4Rows, Float4RowsDumper)


psycopg.adapters.register_dumper(Float4Rows, Float4RowsDumper)
