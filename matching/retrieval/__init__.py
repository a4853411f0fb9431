"""Text embedding, the vector store and approximate nearest-neighbour retrieval."""

from __future__ import annotations

from matching.retrieval.embedder import TextEmbedder, job_text, talent_text

__all__ = ["TextEmbedder", "job_text", "talent_text"]
