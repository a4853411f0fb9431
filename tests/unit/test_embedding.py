"""matching.embedding with the real bundled all-MiniLM-L6-v2 (no database, no mocks)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from matching.retrieval.embedder import (
    DIMENSIONS,
    MAX_TEXT_CHARS,
    MODEL_NAME,
    TextEmbedder,
    cosine,
    job_text,
    talent_text,
    text_sha256,
    truncate,
)
from matching.settings import Settings

BACKEND = "Senior Python backend engineer, Django, PostgreSQL"
DJANGO = "Python developer building Django APIs"
NURSE = "Registered nurse, intensive care"


@pytest.fixture(scope="module")
def embedder() -> TextEmbedder:
    """One model load for the whole module (it takes seconds)."""
    e = TextEmbedder(Settings(_env_file=None))  # type: ignore[call-arg]
    e.warm()
    return e


@pytest.fixture
def fresh(embedder: TextEmbedder) -> TextEmbedder:
    """The shared embedder with an empty cache and zeroed counters."""
    embedder.clear_cache()
    return embedder


# -- vectors ---------------------------------------------------------------


def test_vectors_are_unit_length_float32_384d(fresh):
    vectors = fresh.embed([BACKEND, DJANGO, NURSE])
    assert vectors.shape == (3, DIMENSIONS) == (3, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    one = fresh.embed_one(NURSE)
    assert one.shape == (384,)
    np.testing.assert_array_equal(one, vectors[2])


def test_same_text_gives_identical_vector_even_without_cache(embedder):
    a = embedder.embed_one(BACKEND)
    embedder.clear_cache()
    b = embedder.embed_one(BACKEND)
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_similar_texts_are_closer_than_unrelated(fresh):
    backend, django, nurse = fresh.embed([BACKEND, DJANGO, NURSE])
    assert cosine(backend, django) > cosine(backend, nurse) + 0.3
    assert cosine(django, nurse) < 0.3


def test_cosine_shapes(fresh):
    vectors = fresh.embed([BACKEND, DJANGO, NURSE])
    row = cosine(vectors, vectors[0])
    assert row.shape == (3,)
    assert row[0] == pytest.approx(1.0, abs=1e-5)
    assert isinstance(cosine(vectors[0], vectors[1]), float)
    np.testing.assert_allclose(cosine(vectors[1], vectors), cosine(vectors, vectors[1]))
    matrix = cosine(vectors, vectors)
    assert matrix.shape == (3, 3)
    np.testing.assert_allclose(np.diag(matrix), 1.0, atol=1e-5)
    np.testing.assert_allclose(matrix, matrix.T, atol=1e-6)


# -- cache -----------------------------------------------------------------


def test_second_call_is_a_cache_hit(fresh):
    first = fresh.embed([BACKEND])
    assert (fresh.cache_hits, fresh.cache_misses) == (0, 1)
    second = fresh.embed([BACKEND])
    assert (fresh.cache_hits, fresh.cache_misses) == (1, 1)
    assert fresh.hit_ratio == 0.5
    np.testing.assert_array_equal(first, second)


def test_only_misses_reach_the_model_and_order_is_kept(fresh):
    cached = fresh.embed([DJANGO])
    mixed = fresh.embed([NURSE, DJANGO, BACKEND])
    assert (fresh.cache_hits, fresh.cache_misses) == (1, 3)
    np.testing.assert_array_equal(mixed[1], cached[0])
    separate = np.stack([fresh.embed_one(t) for t in (NURSE, DJANGO, BACKEND)])
    np.testing.assert_array_equal(mixed, separate)


def test_duplicates_in_one_call_are_embedded_once(fresh):
    vectors = fresh.embed([NURSE, BACKEND, NURSE, NURSE])
    assert fresh.cache_misses == 2
    assert fresh.cache_hits == 2
    assert fresh.cache_size == 2
    np.testing.assert_array_equal(vectors[0], vectors[2])
    np.testing.assert_array_equal(vectors[0], vectors[3])


def test_cache_is_bounded_lru():
    small = TextEmbedder(Settings(_env_file=None, embedding_cache_size=2))  # type: ignore[call-arg]
    small.embed(["alpha one", "beta two"])
    small.embed(["alpha one"])  # refresh alpha: beta is now the oldest
    small.embed(["gamma three"])  # evicts beta
    assert small.cache_size == 2
    small.embed(["alpha one"])
    assert small.cache_hits == 2
    small.embed(["beta two"])
    assert small.cache_misses == 4


def test_cached_vectors_cannot_be_corrupted_by_callers(fresh):
    out = fresh.embed([BACKEND])
    out[0, :] = 0.0
    np.testing.assert_allclose(np.linalg.norm(fresh.embed([BACKEND])[0]), 1.0, atol=1e-5)


def test_concurrent_embedding_is_consistent(fresh):
    texts = [f"{BACKEND} number {i}" for i in range(20)]
    expected = fresh.embed(texts)
    fresh.clear_cache()
    results: list[np.ndarray] = []

    def work() -> None:
        results.append(fresh.embed(texts))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4
    for r in results:
        np.testing.assert_allclose(r, expected, atol=1e-6)
    assert fresh.cache_misses == 20


def test_warm_fills_the_cache(fresh):
    fresh.warm([NURSE, DJANGO])
    fresh.embed([DJANGO, NURSE])
    assert fresh.cache_hits == 2


def test_model_name(embedder):
    assert embedder.model_name == MODEL_NAME == "sentence-transformers/all-MiniLM-L6-v2"


# -- validation ------------------------------------------------------------


@pytest.mark.parametrize("bad", ["", "   \n\t", None, 42, b"bytes"])
def test_bad_input_raises_value_error(fresh, bad):
    with pytest.raises(ValueError, match=r"empty|must be str"):
        fresh.embed(["fine", bad])
    with pytest.raises(ValueError, match=r"empty|must be str"):
        fresh.embed_one(bad)
    assert fresh.cache_misses == 0  # nothing was embedded


def test_a_bare_string_is_not_a_sequence_of_texts(fresh):
    with pytest.raises(ValueError, match="embed_one"):
        fresh.embed(BACKEND)


def test_empty_list_gives_empty_matrix(fresh):
    assert fresh.embed([]).shape == (0, 384)


# -- templates -------------------------------------------------------------


def test_talent_template():
    text = talent_text(
        "Senior Backend Engineer", "senior", ["Python", "PostgreSQL", "Django"], "I build APIs."
    )
    assert text == (
        "Senior Backend Engineer. Level: senior. Skills: Django, PostgreSQL, Python. I build APIs."
    )


def test_job_template_includes_company():
    text = job_text("Backend Engineer", "mid", ["go", "Docker"], "Ship services.", "Acme Ltd")
    assert text == "Backend Engineer at Acme Ltd. Level: mid. Skills: Docker, go. Ship services."
    assert job_text("Backend Engineer", "mid", [], "Ship.") == "Backend Engineer. Level: mid. Ship."


def test_templates_are_deterministic():
    skills = ["python", "Django", "aws", "PostgreSQL", "Kubernetes"]
    a = talent_text("Data  Engineer ", "mid", skills, "Pipelines\n\nand   more.")
    b = talent_text("Data Engineer", "mid", list(reversed(skills)), "Pipelines and more.")
    c = talent_text("Data Engineer", "mid", [*sorted(skills), "PYTHON"], "Pipelines and more.")
    d = talent_text("Data Engineer", "mid", ["PYTHON", *skills], "Pipelines and more.")
    assert a == b
    assert c == d  # case variants of one skill collapse to one spelling, whatever the order
    assert "Skills: aws, Django, Kubernetes, PostgreSQL, python." in a
    assert "\n" not in a and "  " not in a
    assert text_sha256(a) == text_sha256(b)
    j1 = job_text("SRE", "lead", ["Go", "aws"], "On call.", "Acme")
    j2 = job_text("SRE", "lead", ["aws", "Go"], "On call.", "Acme")
    assert j1 == j2


def test_templates_truncate_at_a_word_boundary():
    bio = " ".join(f"word{i}" for i in range(1000))
    text = talent_text("Engineer", "junior", ["Python"], bio)
    assert len(text) <= MAX_TEXT_CHARS
    assert len(text) > MAX_TEXT_CHARS - 12
    assert text.startswith("Engineer. Level: junior. Skills: Python. word0 word1")
    last = text.rsplit(" ", 1)[1]
    assert last.startswith("word") and last in bio.split(" ")  # no half word
    long_job = job_text("Engineer", "junior", [], "x" * 5000, "Acme")
    assert len(long_job) <= MAX_TEXT_CHARS


def test_truncate_helper():
    assert truncate("short") == "short"
    assert truncate("aaaa bbbb cccc", 11) == "aaaa bbbb"
    assert truncate("a" * 20, 10) == "a" * 10  # no space to cut at
    assert truncate("aaaa bbbb", 9) == "aaaa bbbb"


def test_empty_entity_text_raises():
    with pytest.raises(ValueError):
        talent_text("  ", None, [], "")
    with pytest.raises(ValueError):
        job_text("", None, [], None)


def test_sha256_is_stable_hex():
    assert (
        text_sha256("hello") == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    )
    assert text_sha256("héllo") == text_sha256("héllo")
    assert text_sha256("hello") != text_sha256("hello ")
    with pytest.raises(ValueError):
        text_sha256("")
