"""Article pages built in code, for the loading and encoding tests."""

from __future__ import annotations

PARAGRAPHS = [
    "The harbour authority of Riverton will let cyclists board the night ferry from the first of May, "
    "ending a ban that has stood for eleven years after a quiet pilot in the autumn.",
    "Officials said the lower deck will carry twelve bicycle racks and a ramp that folds flat when the "
    "vessel docks, and riders will pay the same fare as foot passengers.",
    "Local riding groups had campaigned for the change for years, and their petition gathered more than "
    "six thousand signatures before the harbour board voted to lift the ban.",
    "Walkers keep the front door and the upper deck, and the timetable will be adjusted so that the last "
    "departure still meets the final tram on the island side of the bay.",
]


def article_html(title: str = "Riverton opens its night ferry to cyclists", paragraphs: list[str] | None = None,
                 head: str = '<meta charset="utf-8">', lang: str = "en") -> str:
    paras = "\n".join(f"<p>{p}</p>" for p in (paragraphs or PARAGRAPHS))
    return (f'<!doctype html>\n<html lang="{lang}"><head>{head}<title>{title}</title></head>\n'
            f"<body><nav><a href='/'>Home</a> <a href='/news'>News</a></nav>\n"
            f"<article><h1>{title}</h1>\n{paras}\n</article></body></html>\n")
