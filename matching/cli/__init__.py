"""The `matching` command line."""

from __future__ import annotations

from matching.cli.main import main

__all__ = ["main"]
