"""Saved replies' placeholders: known ones filled in once, everything else left as written."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from app.domain.saved_replies import PLACEHOLDERS, expand, first_name, unknown_placeholders

VALUES = {"author_name": "Ana Souza", "my_first_name": "Tom"}
NAMES = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
# Names with braces are tested on their own (below): the rebuilt text here replaces in turn.
PLAIN_NAMES = NAMES.filter(lambda n: "{" not in n and "}" not in n)
PIECES = st.lists(
    st.one_of(
        st.sampled_from(["{author_name}", "{my_first_name}", "{order}", "{", "}", "{}", "{{", " "]),
        st.text(max_size=8),
    ),
    max_size=20,
).map("".join)


def test_known_placeholders_are_filled_in() -> None:
    got = expand("Hi {author_name}, {my_first_name} here.", VALUES)
    assert got.text == "Hi Ana Souza, Tom here."
    assert got.complete


def test_unknown_placeholders_stay_as_written_and_are_named_once() -> None:
    got = expand("Order {order_id} for {author_name}: {order_id}, { author_name }", VALUES)
    assert got.text == "Order {order_id} for Ana Souza: {order_id}, { author_name }"
    assert got.unknown == ("order_id", " author_name ")
    assert not got.complete


def test_a_placeholder_without_a_value_stays_and_is_missing() -> None:
    got = expand("Hi {author_name}, {my_first_name}", {"my_first_name": "Tom", "author_name": " "})
    assert got.text == "Hi {author_name}, Tom"
    assert got.missing == ("author_name",)


@given(PIECES, NAMES)
def test_whatever_a_name_holds_the_unknown_ones_are_the_templates(template: str, a: str) -> None:
    got = expand(template, {"author_name": a, "my_first_name": "Tom"})
    assert got.unknown == unknown_placeholders(template)
    assert got.text.count("Tom") >= template.count("{my_first_name}")


def test_braces_in_a_name_are_inserted_literally_not_expanded_again() -> None:
    got = expand("Hi {author_name}!", {"author_name": "{my_first_name} {x}"})
    assert got.text == "Hi {my_first_name} {x}!"
    assert got.complete  # what the name holds is not the template's business


def test_line_breaks_in_a_name_become_one_space() -> None:
    assert expand("Hi {author_name}", {"author_name": "Ana\n\tSouza"}).text == "Hi Ana Souza"


def test_lone_and_empty_braces_are_punctuation() -> None:
    got = expand("a { b } {} :-{ {{author_name}}", VALUES)
    assert got.text == "a { b } {} :-{ {Ana Souza}"
    assert got.unknown == (" b ",)


@given(st.text().filter(lambda t: "{" not in t))
def test_text_without_braces_is_unchanged(text: str) -> None:
    got = expand(text, VALUES)
    assert got.text == text
    assert got.complete


@given(PIECES, PLAIN_NAMES, PLAIN_NAMES)
def test_expand_never_raises_and_only_placeholders_change(template: str, a: str, m: str) -> None:
    values = {"author_name": a, "my_first_name": m}
    got = expand(template, values)
    # Nothing but the known placeholders is replaced: take every filled-in value out of the
    # template and the result alike, and what remains is the same text.
    rebuilt = template
    for name, value in values.items():
        clean = " ".join(value.split())
        if clean:
            rebuilt = rebuilt.replace("{" + name + "}", clean)
    assert got.text == rebuilt
    assert set(got.unknown) == set(unknown_placeholders(template))
    assert not set(got.unknown) & set(PLACEHOLDERS)


@given(PIECES)
def test_with_no_values_the_template_comes_back_and_every_known_one_is_missing(
    template: str,
) -> None:
    got = expand(template, {})
    assert got.text == template
    for name in PLACEHOLDERS:
        assert (name in got.missing) == ("{" + name + "}" in template)


def test_first_name() -> None:
    assert first_name("Tom Becker") == "Tom"
    assert first_name("  Lucía  Fernández ") == "Lucía"
    assert first_name("") == ""
