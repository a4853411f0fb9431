"""Synthetic marketplaces for the initial model, demos, tests and benchmarks (not the hot path)."""

from __future__ import annotations

from matching.synthetic.generator import SyntheticDataset, generate
from matching.synthetic.seed import SeedError, SeedReport, seed

__all__ = ["SeedError", "SeedReport", "SyntheticDataset", "generate", "seed"]
