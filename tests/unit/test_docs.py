"""Generated docs are committed current."""

from __future__ import annotations

from pathlib import Path

from matching.features.docs import FEATURES_DOC, features_markdown
from matching.features.extraction import FEATURES

ROOT = Path(__file__).resolve().parents[2]


def test_committed_feature_table_is_current():
    committed = (ROOT / FEATURES_DOC).read_text(encoding="utf-8")
    assert committed == features_markdown(), "run `matching docs features` and commit the result"


def test_feature_table_lists_every_feature_once():
    table = features_markdown()
    for f in FEATURES:
        assert table.count(f"`{f.name}`") == 1
