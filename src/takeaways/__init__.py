"""takeaways: turn web articles into a publishable FAQ and Key Takeaways."""

from __future__ import annotations

__version__ = "0.1.0"

from .api import check, extract, render, summarize
from .errors import TakeawaysError
from .models import QA, Article, ArticleMeta, Block, Digest, ExistingBlock, Page, Spec, Takeaway, Usage

__all__ = [
    "QA", "Article", "ArticleMeta", "Block", "Digest", "ExistingBlock", "Page", "Spec", "Takeaway", "TakeawaysError",
    "Usage", "__version__", "check", "extract", "render", "summarize",
]
