"""The offline extractive engine: Key Takeaways and an FAQ quoted from the article."""

from __future__ import annotations

from ...config import Settings
from ...models import QA, Article, Digest, Spec, Takeaway
from .faq import faq
from .ranking import MIN_TAKEAWAYS, select_takeaways
from .text import compress, is_english


class ExtractiveEngine:
    name = "extractive"

    def generate(self, article: Article, spec: Spec, settings: Settings) -> Digest:
        english = is_english(article, spec)
        warnings: list[str] = []
        asked, own = (spec.language or "").split("-")[0].casefold(), (article.language or "").split("-")[0].casefold()
        if asked and own and asked != own:
            warnings.append(f"extractive engine: it quotes the article and cannot translate; the output is in "
                            f"{article.language!r}, not {spec.language!r}")
        if not english:
            lang = article.language or spec.language
            warnings.append(f"extractive engine: language {lang!r} is not English; ranking uses position, "
                            "centrality and headings only, and the FAQ only the article's own questions and headings")
        chosen, items, sim, _idf = select_takeaways(article, spec, english)
        takeaways = [Takeaway(text=compress(u.text), evidence=u.text) for u in chosen]
        qas: list[QA] = faq(article, spec, items, sim, chosen, english) if spec.questions else []
        if spec.takeaways and len(takeaways) < min(spec.takeaways, MIN_TAKEAWAYS):
            warnings.append(f"extractive engine: only {len(takeaways)} takeaway(s); the page has few sentences that "
                            "stand on their own (the rest are captions, promos, pieces of quotations or asides)")
        if spec.questions and len(qas) < spec.questions:
            warnings.append(f"extractive engine: only {len(qas)} FAQ item(s) could be formed from the article")
        return Digest(article=article.meta, takeaways=takeaways, faq=qas, engine=self.name,
                      existing_blocks=article.existing_blocks, warnings=warnings)
