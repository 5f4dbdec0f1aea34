"""takeaways: turn web articles into a publishable FAQ and Key Takeaways."""

from __future__ import annotations

__version__ = "0.1.0"

from .api import extract, render, summarize  # noqa: E402
from .errors import TakeawaysError  # noqa: E402
from .models import QA, Article, ArticleMeta, Block, Digest, ExistingBlock, Page, Spec, Takeaway, Usage  # noqa: E402

__all__ = [
    "__version__", "extract", "summarize", "render", "TakeawaysError",
    "Article", "ArticleMeta", "Block", "Digest", "ExistingBlock", "Page", "QA", "Spec", "Takeaway", "Usage",
]
