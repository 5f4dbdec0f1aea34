"""takeaways: turn web articles into a publishable FAQ and Key Takeaways.

The public names load on first use (`takeaways --version` imports none of the library).
`extract`, `summarize` and `render` are functions; the modules behind them are
`takeaways.extraction` and `takeaways.rendering`, so no function shadows a submodule.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .api import check, extract, render, summarize
    from .errors import TakeawaysError
    from .models import QA, Article, ArticleMeta, Block, Digest, ExistingBlock, Page, Spec, Takeaway, Usage

_LAZY = {
    "check": "api", "extract": "api", "render": "api", "summarize": "api", "TakeawaysError": "errors",
    **{name: "models" for name in ("QA", "Article", "ArticleMeta", "Block", "Digest", "ExistingBlock", "Page", "Spec",
                                   "Takeaway", "Usage")},
}

__all__ = [
    "QA", "Article", "ArticleMeta", "Block", "Digest", "ExistingBlock", "Page", "Spec", "Takeaway", "TakeawaysError",
    "Usage", "__version__", "check", "extract", "render", "summarize",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'takeaways' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # once loaded, a plain attribute
    return value
