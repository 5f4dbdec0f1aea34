"""XML from strangers (sitemaps, feeds): no entity declarations, no external entities, no network.

Sitemaps and feeds never need to declare entities, and declaring them is how the two classic XML
attacks start: the "billion laughs" bomb (entities that expand to gigabytes) and external entities
(`<!ENTITY x SYSTEM "file:///etc/passwd">`, which would put a local file into the output). So a
document whose prolog declares any entity is refused with a clear reason, before any parser that
might expand it sees it. The parsers behind this are configured defensively as well (lxml with
`resolve_entities=False, no_network=True, huge_tree=False`; feedparser strips the DOCTYPE and
leaves undefined entities as text), so the check is a second fence, not the only one.
"""

from __future__ import annotations

import re
from xml.parsers import expat

from .errors import SourceError

_ENTITY_DECL = re.compile(rb"<!ENTITY", re.I)


class _Root(Exception):
    pass


def check(data: bytes, where: str) -> None:
    """SourceError when the document's DTD declares entities (an XML bomb or an external-entity attack)."""
    parser = expat.ParserCreate()
    found: list[str] = []

    def root(name: str, attrs: object) -> None:
        raise _Root

    def entity(name: str, *args: object) -> None:
        found.append(name)
        raise _Root

    parser.StartElementHandler = root
    parser.EntityDeclHandler = entity
    parser.UnparsedEntityDeclHandler = entity
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        for start in range(0, len(data), 1 << 16):
            parser.Parse(data[start:start + (1 << 16)], False)
        parser.Parse(b"", True)
    except _Root:
        pass
    except expat.ExpatError:
        # Expat cannot read it (a broken prolog, an encoding it does not know); the lenient parser
        # behind will try. Refuse anyway if an entity declaration appears before the first element.
        head = data[:1 << 20]
        first = re.search(rb"<[A-Za-z_]", head)
        if _ENTITY_DECL.search(head[: first.start() if first else len(head)]):
            found.append("?")
    if found:
        raise SourceError(f"{where}: declares XML entities ({found[0]}), which sitemaps and feeds never need; "
                          "refused (an XML bomb or an external-entity attack)")
