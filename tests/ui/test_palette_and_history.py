"""The palette's fuzzy match and the history's sentences, without a window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from app.storage.triage import EventRow, NewEvent, NoteRow
from app.ui.command_palette import Command, fuzzy_score, ranked
from app.ui.inbox.history_text import activity, describe

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
UNITS = {1: "Orders & Delivery", 2: "Technical Support"}
PEOPLE = {7: "Aisha Bello"}


def _is_subsequence(needle: str, hay: str) -> bool:
    it = iter(hay)
    return all(ch in it for ch in needle)


@given(st.text(max_size=12), st.text(max_size=40))
def test_a_match_means_every_typed_character_in_order(query: str, text: str) -> None:
    score = fuzzy_score(query, text)
    needle = "".join(query.casefold().split())
    assert (score is not None) == _is_subsequence(needle, text.casefold())


@given(st.text(min_size=1, max_size=40))
def test_a_text_always_matches_itself_and_an_empty_query_matches_all(text: str) -> None:
    assert fuzzy_score(text, text) is not None
    assert fuzzy_score("", text) == 0


def test_word_starts_and_runs_rank_first() -> None:
    commands = [
        Command(t, "", lambda: None) for t in ("Show status: Resolved", "Resolve", "Refresh")
    ]
    # "Resolve": a word start and a run; "Resolved" later in its text; "Refresh" has a gap.
    assert [c.text for c in ranked(commands, "res")] == [
        "Resolve",
        "Show status: Resolved",
        "Refresh",
    ]
    assert ranked(commands, "rslv")[0].text == "Resolve"
    assert ranked(commands, "zzz") == []


def _event(
    kind: str, *, before=None, after=None, unit_from=None, unit_to=None, reason=""
) -> NewEvent:
    return NewEvent(10, T0, 7, "Aisha Bello", kind, before, after, unit_from, unit_to, None, reason)


def test_every_kind_reads_as_a_sentence() -> None:
    cases = {
        "claimed it": _event("claimed"),
        "assigned it to Aisha Bello": _event("assigned", after={"assignee_id": 7}),
        "unassigned it": _event("unassigned"),
        "handed it over from Orders & Delivery to Technical Support: firmware": _event(
            "handed_over", unit_from=1, unit_to=2, reason="firmware"
        ),
        "resolved it": _event("status", before={"status": "open"}, after={"status": "resolved"}),
        "reopened it": _event("status", before={"status": "resolved"}, after={"status": "open"}),
        "set the status from Open to Waiting": _event(
            "status", before={"status": "open"}, after={"status": "waiting"}
        ),
        "set the priority to urgent": _event("priority", after={"priority": "urgent"}),
        "tagged it “refund”": _event("tagged", after={"tag": "refund"}),
        "removed the tag “refund”": _event("untagged", after={"tag": "refund"}),
        "marked it as spam": _event("spam_verdict", after={"verdict": "spam"}),
        "marked it as not spam": _event("spam_verdict", after={"verdict": "not_spam"}),
        "applied the rules again (to Technical Support)": _event("routed", unit_to=2),
    }
    for sentence, event in cases.items():
        assert describe(event, UNITS, PEOPLE) == sentence


def test_activity_interleaves_history_and_notes_and_drops_the_note_lines() -> None:
    history = [
        EventRow(1, _event("claimed")),
        EventRow(2, NewEvent(10, T0 + timedelta(minutes=2), 7, "Aisha Bello", "note")),
        EventRow(3, replace_at(_event("tagged", after={"tag": "x"}), T0 + timedelta(minutes=3))),
    ]
    notes = [NoteRow(1, 10, 7, "Aisha Bello", "<b>called</b>", T0 + timedelta(minutes=2))]
    lines = activity(history, notes, UNITS, PEOPLE)
    assert [(line.what, line.note) for line in lines] == [
        ("claimed it", ""),
        ("wrote a note", "<b>called</b>"),
        ("tagged it “x”", ""),
    ]
    assert lines[0].heading().endswith(" · Aisha Bello claimed it")


def replace_at(event: NewEvent, at: datetime) -> NewEvent:
    from dataclasses import replace

    return replace(event, at=at)
