"""Offline extractive engine: ranked Key Takeaways and an FAQ built from the article itself.

Deterministic, no network, no model files. One module per job, imported in this order (no cycle):

- `text`       words and terms, the sentence `Unit`, quotation checks, display clean-up (both blocks);
- `filters`    sentence checks: captions and credits, lines that are never a takeaway, well-formed questions;
- `units`      the article as sentence units with offsets, block and section;
- `ranking`    salience (TF-IDF centrality + position prior + title/heading overlap + length) and MMR;
- `templates`  questions from headings and from sentence shapes ("<Name> said …" → "What did <Name> say?");
- `subjects`   what the article is about: its names and real subjects;
- `faq`        the FAQ: candidates from the three sources, then the choice;
- `engine`     `ExtractiveEngine`, the registry's "extractive".

Every item's `evidence` is a verbatim slice of `article.text`.
"""

from __future__ import annotations

from .engine import ExtractiveEngine

__all__ = ["ExtractiveEngine"]
