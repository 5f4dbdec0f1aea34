"""Sentence splitting: the hard cases of news text, and the verbatim guarantee."""

from __future__ import annotations

import pytest

from takeaways.sentences import sentence_spans, split_sentences


@pytest.mark.parametrize(("text", "expected"), [
    # titles and initials
    ("Mr. Smith met Dr. Jones. They talked.", ["Mr. Smith met Dr. Jones.", "They talked."]),
    ("The novel by J. K. Rowling sold well. Critics agreed.",
     ["The novel by J. K. Rowling sold well.", "Critics agreed."]),
    ("Gov. Ann Lee and Sen. Bo Park spoke. Nobody left.", ["Gov. Ann Lee and Sen. Bo Park spoke.", "Nobody left."]),
    # initialisms inside and at the end of a sentence
    ("The U.S. economy grew. It was expected.", ["The U.S. economy grew.", "It was expected."]),
    ("Prices rose in the U.S. The Fed acted.", ["Prices rose in the U.S.", "The Fed acted."]),
    ("The meeting ended at 5 p.m. The mayor left.", ["The meeting ended at 5 p.m.", "The mayor left."]),
    ("He moved to Washington, D.C. He liked it.", ["He moved to Washington, D.C.", "He liked it."]),
    # numbers, months, decimals
    ("It ranked No. 5 in the poll. Fine.", ["It ranked No. 5 in the poll.", "Fine."]),
    ("The law took effect on Jan. 5 last year. It was popular.",
     ["The law took effect on Jan. 5 last year.", "It was popular."]),
    ("Growth was 3.5 per cent. Inflation was 2.1%. Good.", ["Growth was 3.5 per cent.", "Inflation was 2.1%.", "Good."]),
    ("The score rose to 5. Then it fell.", ["The score rose to 5.", "Then it fell."]),
    # companies
    ("Acme Inc. hired staff. Apple Inc. is big.", ["Acme Inc. hired staff.", "Apple Inc. is big."]),
    ("She joined Acme Corp. The firm grew.", ["She joined Acme Corp.", "The firm grew."]),
    # quotes and brackets
    ('"Stop." Then he left.', ['"Stop."', "Then he left."]),
    ("'Why?' she asked. He shrugged.", ["'Why?' she asked.", "He shrugged."]),
    ('He said "No!" and left.', ['He said "No!" and left.']),
    ("She left (quietly.) The door shut.", ["She left (quietly.)", "The door shut."]),
    ("“It works,” he said. “Really.” Done.", ["“It works,” he said.", "“Really.”", "Done."]),
    ("The study (published in 2020, vol. 3) was cited. Next.", ["The study (published in 2020, vol. 3) was cited.", "Next."]),
    # ellipsis, exclamation, question
    ("Wait... What happened? Nothing!", ["Wait...", "What happened?", "Nothing!"]),
    ("It ended… and then? Nobody knew.", ["It ended… and then?", "Nobody knew."]),
    # e.g./i.e./etc.
    ("Use tools, e.g. hammers. They help.", ["Use tools, e.g. hammers.", "They help."]),
    ("Bring fruit, vegetables, etc. The list is long.", ["Bring fruit, vegetables, etc.", "The list is long."]),
    # lower case after a stop is not a new sentence
    ("The ratio was 3 vs. 4 in the end. ok then.", ["The ratio was 3 vs. 4 in the end. ok then."]),
])
def test_hard_cases(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_bullets_and_lines() -> None:
    text = "Key points:\n- First item here\n* Second item\n1. Third item\n2) Fourth item\n• Fifth item"
    assert split_sentences(text) == ["Key points:", "First item here", "Second item", "Third item", "Fourth item",
                                     "Fifth item"]


def test_a_line_break_ends_a_sentence() -> None:
    assert split_sentences("A heading without a stop\nThe paragraph. Two sentences.") == [
        "A heading without a stop", "The paragraph.", "Two sentences."]


def test_cjk_full_stops() -> None:
    assert split_sentences("今天天气很好。我们去公园！你呢？") == ["今天天气很好。", "我们去公园！", "你呢？"]
    assert split_sentences("東京は晴れです。明日は雨でしょう。") == ["東京は晴れです。", "明日は雨でしょう。"]


def test_other_latin_languages() -> None:
    assert split_sentences("Der Zug kam um 8 Uhr an. Alle stiegen aus.", "de") == [
        "Der Zug kam um 8 Uhr an.", "Alle stiegen aus."]
    assert split_sentences("¿Qué pasó? Nadie lo sabe.", "es") == ["¿Qué pasó?", "Nadie lo sabe."]


@pytest.mark.parametrize("text", ["", "   ", "\n\n", ".", "...", "- ", "?!"])
def test_odd_input_does_not_raise(text: str) -> None:
    for s in split_sentences(text):
        assert s in text


def test_every_sentence_is_a_verbatim_substring_at_its_offset() -> None:
    text = ("LONDON (Reuters) - Mr. Brown said the U.S. deal, worth $1.5 bn, was \"done.\" It wasn't.\n"
            "  - a bullet item\n\n(CNN)Another line? Yes! Dr. No. 5 Jan. 5 etc. The end")
    spans = sentence_spans(text)
    assert spans == sorted(spans)
    for a, b in spans:
        s = text[a:b]
        assert s == s.strip() and s
    assert [text[a:b] for a, b in spans] == split_sentences(text)
    # Nothing but whitespace and bullets is left out.
    covered = "".join(text[a:b] for a, b in spans)
    assert len(covered.replace(" ", "")) >= len(text.replace(" ", "").replace("\n", "")) - 1


def test_deterministic() -> None:
    text = "One. Two? Three! " * 50
    assert split_sentences(text) == split_sentences(text)
    assert len(split_sentences(text)) == 150


def test_scripts_without_case_split_after_a_full_stop() -> None:
    assert split_sentences("시작은 엘제이의 사진 공개로부터 비롯됐다. 그건 잘못된 일이다. Done.") == [
        "시작은 엘제이의 사진 공개로부터 비롯됐다.", "그건 잘못된 일이다.", "Done."]
    assert split_sentences("قال الوزير إن الخطة جاهزة. وأضاف أنها ستبدأ غدا.") == [
        "قال الوزير إن الخطة جاهزة.", "وأضاف أنها ستبدأ غدا."]
    assert split_sentences("Il a dit oui. été comme hiver.") == ["Il a dit oui. été comme hiver."]  # lower case: no split
