"""More of issue 14's FAQ rules, each on a small written example (the first ones are in test_offline_rules.py)."""

from __future__ import annotations

from takeaways.engines.offline.filters import glued


def test_a_title_and_a_name_run_into_a_sentence_make_a_run_on() -> None:
    assert glued("Tom Berg avoided a prison sentence after an assault on a policeman Sheriff Ann Lee spared the "
                 "star a sentence after hearing of his counselling.")
    assert glued("Berg said firms would not be forced to give staff days off under the plan Former Deputy Prime "
                 "Minister Ann Lee offered her view on the radio.")
    assert not glued("The case was heard by Sheriff Ann Lee, who spared the star a prison sentence.")
    assert not glued("The star was spared a sentence by Judge Ann Lee, who adjourned the case.")
    assert not glued("He met with Former President Tom Lee and discussed the plan for the harbour.")


def test_a_list_number_glued_to_the_end_of_a_sentence_is_no_answer() -> None:
    from takeaways.engines.offline.faq import _LIST_NUMBER

    assert _LIST_NUMBER.search("Mara Quist has died at the age of 84 after a long illness 1.")
    assert not _LIST_NUMBER.search("Mara Quist died at the age of 84.")
    assert not _LIST_NUMBER.search("The home side won 3-1.")
    assert not _LIST_NUMBER.search("The boat sank in round 2.")


def test_a_review_section_named_by_a_compound_is_asked_what_it_is_like() -> None:
    from takeaways.engines.offline.templates import heading_question_for

    assert heading_question_for("Battery Life", "In our test the battery lasted 11 hours, short of the 14 claimed.",
                                set()) == "What is the battery life like?"
    assert heading_question_for("Thermals", "Under load the fans spin up within seconds.", set()) is None


def test_who_is_keeps_a_compound_role_and_a_chair_but_not_an_owners_role() -> None:
    from takeaways.engines.offline.templates import template_questions, who_answer

    assert who_answer("Lumo executive chair Ana Ruiz said the cuts were needed.", "Ana Ruiz", {"lumo"}, set()) == (
        "Ana Ruiz is the Lumo executive chair.")
    assert who_answer("Ana Ruiz, the chair of the Oakfield Tenants Association, said the rent rose.", "Ana Ruiz") == (
        "Ana Ruiz is the chair of the Oakfield Tenants Association.")
    assert who_answer("Tom Berg wrote to Ana Ruiz, his editor, in 1990.", "Ana Ruiz") is None  # whose editor?
    assert ("Why was Harbour Homes fined $40,000 last year?", "why") in template_questions(
        "Harbour Homes was fined $40,000 last year after inspectors found damp in 200 flats.")


def test_without_a_title_the_first_sentence_names_the_topic_of_speech() -> None:
    from takeaways.config import Settings
    from takeaways.engines.offline import ExtractiveEngine
    from takeaways.models import Article, Block, Spec

    texts = ["A new documentary about the Harbour church has angered its most famous member, actor Tom Berg.",
             "Tom Berg told the Veltra Times that he has not seen the documentary and does not intend to.",
             "The film, made by two former members, opens in cinemas across the country on Friday."]
    art = Article(language="en", blocks=[Block(kind="paragraph", text=t) for t in texts])
    qs = [q.question for q in ExtractiveEngine().generate(art, Spec(takeaways=1, questions=4), Settings()).faq]
    assert "What did Tom Berg say about the documentary?" in qs


def test_who_is_skips_a_participle_before_the_role_and_lowers_a_capitalised_role() -> None:
    from takeaways.engines.offline.templates import who_answer

    assert who_answer("Cuts will come, said The Lumo Company's recently named executive chair Ana Ruiz in an email.",
                      "Ana Ruiz", {"lumo", "company"}, {"chair"}) == "Ana Ruiz is the Lumo Company's executive chair."
    assert who_answer("In Veltra Mayor Ana Ruiz said no to the plan.", "Ana Ruiz", {"veltra"}, set()) == (
        "Ana Ruiz is the Veltra mayor.")


def test_what_happened_covers_a_verdict_and_an_arrest_and_legal_questions_take_an_adverb() -> None:
    from takeaways.engines.offline.templates import template_questions

    assert template_questions("Last week, Tom Berg was found guilty on all 30 charges he faced.") == [
        ("What happened to Tom Berg?", "happened")]
    assert template_questions("Ana Ruiz, 38, was handcuffed by police at the university and driven off.") == [
        ("What happened to Ana Ruiz?", "happened")]
    assert template_questions("Tom Berg was previously charged with criminal damage and theft.") == [
        ("What was Tom Berg charged with?", "legal")]


def test_an_unnamed_person_is_not_asked_what_they_revealed() -> None:
    from takeaways.config import Settings
    from takeaways.engines.offline import ExtractiveEngine
    from takeaways.models import Article, Block, Spec

    texts = ["The oscar nominated actress, 60, revealed she turned down the starring role in the harbour drama.",
             "The harbour drama ran for six seasons and won four awards for its writing and its cast.",
             "The actress said she had already played a smuggler's wife in another film nine years before."]
    art = Article(language="en", title="Actress turned down harbour drama role", blocks=[
        Block(kind="paragraph", text=t) for t in texts])
    qs = [q.question for q in ExtractiveEngine().generate(art, Spec(takeaways=1, questions=4), Settings()).faq]
    assert not any(q.startswith("What did the oscar nominated actress") for q in qs)


def test_how_much_keeps_the_tense_of_the_sentence() -> None:
    from takeaways.engines.offline.templates import template_questions

    assert template_questions("Lumo has raised $40 million from investors led by Harbour Capital.") == [
        ("How much has Lumo raised?", "much")]
    assert template_questions("The new ferry costs $2 million and carries 300 passengers.") == [
        ("How much does the new ferry cost?", "much")]
    assert template_questions("Acme Corp paid $5 million to settle the lawsuit last year.") == [
        ("How much did Acme Corp pay?", "much")]


def test_an_answer_nearly_the_same_as_a_takeaway_repeats_it() -> None:
    from takeaways.engines.offline.faq import repeats

    lede = "If you live in Brackton you are twice as likely to own a dog as the rest of the country, according to a poll by Yardline."
    caption = "If you live in Brackton you are twice as likely to own a dog as the rest of the country, according to a poll."
    assert repeats(caption, lede)
    assert repeats(lede, lede)
    assert not repeats("Dog owners in Brackton walk an average of 40 minutes a day, the Yardline poll found.", lede)


def test_who_is_needs_a_role_that_tells_something() -> None:
    from takeaways.engines.offline.faq import informative_role, role_article

    assert not informative_role("Tom Lee is a host.", "Tom Lee")
    assert not informative_role("Ana Ruiz is the YouTube star.", "Ana Ruiz")
    assert not informative_role("Ana Ruiz is an actress.", "Ana Ruiz")
    assert informative_role("Ana Ruiz is the Lumo CEO.", "Ana Ruiz")
    assert informative_role("Ana Ruiz is Lumo's security chief.", "Ana Ruiz")
    assert informative_role("Ana Ruiz is a professor of engineering at Texas.", "Ana Ruiz")
    assert role_article("Ana Ruiz is the former federal MP.", "Ana Ruiz") == "Ana Ruiz is a former federal MP."
    assert role_article("Ana Ruiz is the Lumo CEO.", "Ana Ruiz") == "Ana Ruiz is the Lumo CEO."
    assert role_article("Ana Ruiz is the head of the agency.", "Ana Ruiz") == "Ana Ruiz is the head of the agency."
    assert role_article("Ana Ruiz is the acting editor.", "Ana Ruiz") == "Ana Ruiz is an acting editor."


def test_a_peripheral_person_with_a_bare_role_gets_no_who_is() -> None:
    from takeaways.config import Settings
    from takeaways.engines.offline import ExtractiveEngine
    from takeaways.models import Article, Block, Spec

    text = ["Lindvik teachers marched on the town hall on Monday to demand a pay rise of eight per cent this year.",
            "The Lindvik teachers union said the strike would continue until the council made a new offer.",
            "Council leader Maria Holt said the town could not afford the rise without cutting other services.",
            "Physics teacher Oda Berg, who joined the march, said she had not had a rise in four years.",
            "The union said more than 900 teachers took part in the march, the largest in the town's history."]
    art = Article(title="Lindvik teachers strike over pay", text=" ".join(text),
                  blocks=[Block(kind="paragraph", text=t) for t in text])
    digest = ExtractiveEngine().generate(art, Spec(takeaways=2, questions=4), Settings())
    assert not any(q.question == "Who is Oda Berg?" for q in digest.faq)
