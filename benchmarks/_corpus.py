"""Varied real text for retrieval benchmarks, and a vector cache keyed to the texts.

The synthetic marketplace (`matching.synthetic`) writes every job from a few
templates, so its vectors sit in tight clusters where HNSW is nearly exact;
recall measured there says little about a market of free text. WordNet's
glosses (Debian package `wordnet-base`, about 118,000 hand-written
definitions over every domain) are real English from many authors and
registers, available offline; a corpus mixes them with the project's own
job texts.

Embedding 20,000+ texts with all-MiniLM-L6-v2 on two CPU cores takes many
minutes, so vectors are cached on disk (benchmarks/.cache/, git-ignored),
one entry per text keyed by the sha256 of (model name, text): a changed
text, template or model is simply a miss and is embedded again.
"""

from __future__ import annotations

import hashlib
import random
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from matching.retrieval.embedder import DIMENSIONS, MODEL_NAME, TextEmbedder

WORDNET_PACKAGE = "wordnet-base"
CACHE = Path(__file__).resolve().parent / ".cache"
WORDNET_FILES = {"noun": "data.noun", "verb": "data.verb", "adj": "data.adj", "adv": "data.adv"}


def wordnet_dir() -> Path:
    """Where the installed Debian package keeps WordNet's data files (asked of dpkg).

    Raises FileNotFoundError with the package to install when WordNet is absent.
    """
    try:
        listing = subprocess.run(
            ["dpkg", "-L", WORDNET_PACKAGE], capture_output=True, text=True, check=True
        ).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        listing = []
    for line in listing:
        if line.endswith("/data.noun"):
            return Path(line).parent
    raise FileNotFoundError(
        f"WordNet not found: install the Debian package {WORDNET_PACKAGE}"
        f" (apt-get install {WORDNET_PACKAGE})"
    )


def wordnet_glosses() -> list[str]:
    """Every WordNet synset as one text, 'lemma, lemma (pos): gloss', deduplicated, in order."""
    wordnet = wordnet_dir()
    seen: set[str] = set()
    texts: list[str] = []
    for pos, name in WORDNET_FILES.items():
        for line in (wordnet / name).read_text(encoding="latin-1").splitlines():
            if line.startswith("  ") or "|" not in line:
                continue  # licence header
            head, gloss = line.split("|", 1)
            parts = head.split()
            count = int(parts[3], 16)
            lemmas = parts[4 : 4 + 2 * count : 2]
            words = [re.sub(r"\(.*\)$", "", w).replace("_", " ") for w in lemmas]
            text = f"{', '.join(words)} ({pos}): {gloss.strip()}"
            if text not in seen:
                seen.add(text)
                texts.append(text)
    return texts


def sample_glosses(n: int, seed: int) -> list[str]:
    """`n` distinct glosses drawn without replacement (the same `seed` gives the same list)."""
    glosses = wordnet_glosses()
    if n > len(glosses):
        raise ValueError(f"WordNet has {len(glosses)} glosses, {n} asked")
    return random.Random(seed).sample(glosses, n)


def _key(text: str) -> str:
    return hashlib.sha256(f"{MODEL_NAME}\0{text}".encode()).hexdigest()


def _cache_path() -> Path:
    return CACHE / f"vectors_{re.sub(r'[^A-Za-z0-9]+', '_', MODEL_NAME)}.npz"


def _load_cache() -> dict[str, np.ndarray]:
    path = _cache_path()
    if not path.exists():
        return {}
    with np.load(path) as data:
        keys, vectors = data["keys"], data["vectors"]
    if vectors.ndim != 2 or vectors.shape[1] != DIMENSIONS:
        return {}
    return {str(k): v for k, v in zip(keys, vectors, strict=True)}


def _save_cache(cache: dict[str, np.ndarray]) -> None:
    CACHE.mkdir(exist_ok=True)
    path = _cache_path()
    tmp = path.with_suffix(".tmp.npz")
    keys = np.array(list(cache), dtype="U64")
    vectors = np.stack(list(cache.values())).astype(np.float32)
    np.savez(tmp, keys=keys, vectors=vectors)
    tmp.replace(path)


def embed_cached(
    embedder: TextEmbedder, texts: Sequence[str], *, chunk: int = 512
) -> tuple[np.ndarray, int, float]:
    """Vectors of `texts` (float32, (n, 384)), from the cache where possible.

    Returns (vectors, texts embedded now, seconds spent embedding). Progress is
    saved after every `chunk` texts, so an interrupted run resumes.
    """
    cache = _load_cache()
    keys = [_key(t) for t in texts]
    missing = list(dict.fromkeys(k for k in keys if k not in cache))
    text_of = dict(zip(keys, texts, strict=True))
    started = time.perf_counter()
    for start in range(0, len(missing), chunk):
        batch = missing[start : start + chunk]
        vectors = embedder.embed([text_of[k] for k in batch])
        for k, v in zip(batch, vectors, strict=True):
            cache[k] = np.array(v, dtype=np.float32)
        _save_cache(cache)
        done = start + len(batch)
        rate = done / (time.perf_counter() - started)
        print(f"  embedded {done:,}/{len(missing):,} ({rate:.0f} texts/s)", file=sys.stderr)
    seconds = time.perf_counter() - started
    return np.stack([cache[k] for k in keys]), len(missing), seconds
