"""The rules of editing the unit tree: names, colours, languages, targets, moves, deletes."""

from __future__ import annotations

import contextlib
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.units import (
    UnitError,
    UnitHoldings,
    UnitNode,
    allowed_parents,
    check_colour,
    check_deletable,
    check_languages,
    check_move,
    check_name,
    check_target,
    describe_holdings,
    make_path,
    moved_paths,
    new_unit_name,
)


@st.composite
def trees(draw: st.DrawFn) -> list[UnitNode]:
    n = draw(st.integers(min_value=1, max_value=20))
    nodes = [UnitNode(1, None, "root", make_path(None, 1))]
    for uid in range(2, n + 1):
        parent = draw(st.sampled_from(nodes))
        nodes.append(UnitNode(uid, parent.id, f"u{uid}", make_path(parent.path, uid)))
    return nodes


def _apply(nodes: list[UnitNode], unit_id: int, parent_id: int) -> list[UnitNode]:
    paths = moved_paths(nodes, unit_id, parent_id)
    return [
        UnitNode(
            n.id,
            parent_id if n.id == unit_id else n.parent_id,
            n.name,
            paths.get(n.id, n.path),
        )
        for n in nodes
    ]


def _ancestors(nodes: list[UnitNode], unit_id: int) -> list[int]:
    by_id = {n.id: n for n in nodes}
    seen: list[int] = []
    current = by_id[unit_id].parent_id
    while current is not None:
        assert current not in seen, "a cycle"
        seen.append(current)
        current = by_id[current].parent_id
    return seen


@given(trees(), st.lists(st.tuples(st.integers(1, 20), st.integers(1, 20)), max_size=30))
def test_after_any_moves_every_path_is_the_parents_path_and_its_id(
    nodes: list[UnitNode], moves: list[tuple[int, int]]
) -> None:
    ids = {n.id for n in nodes}
    for unit_id, parent_id in moves:
        if unit_id not in ids or parent_id not in ids:
            continue
        by_id = {n.id: n for n in nodes}
        below_itself = by_id[parent_id].path.startswith(by_id[unit_id].path)
        if by_id[unit_id].parent_id is None or below_itself:
            with pytest.raises(UnitError):
                check_move(nodes, unit_id, parent_id)
            continue
        nodes = _apply(nodes, unit_id, parent_id)
    by_id = {n.id: n for n in nodes}
    for n in nodes:
        parent = None if n.parent_id is None else by_id[n.parent_id].path
        assert n.path == make_path(parent, n.id)
        _ancestors(nodes, n.id)  # no cycle: every chain ends at the root
    assert len({n.path for n in nodes}) == len(nodes)
    assert sum(n.parent_id is None for n in nodes) == 1


@given(trees(), st.data())
def test_the_parents_offered_are_exactly_the_valid_moves(
    nodes: list[UnitNode], data: st.DataObject
) -> None:
    unit = data.draw(st.sampled_from(nodes))
    offered = set(allowed_parents(nodes, unit.id))
    for candidate in nodes:
        try:
            check_move(nodes, unit.id, candidate.id)
        except UnitError:
            assert candidate.id not in offered
        else:
            assert (candidate.id in offered) == (candidate.id != unit.parent_id)


def test_a_unit_cannot_go_below_itself_or_its_sub_tree() -> None:
    nodes = [
        UnitNode(1, None, "Acme", "/1/"),
        UnitNode(2, 1, "Care", "/1/2/"),
        UnitNode(3, 2, "Orders", "/1/2/3/"),
    ]
    with pytest.raises(UnitError, match="Care cannot move below itself"):
        check_move(nodes, 2, 2)
    with pytest.raises(UnitError, match="below its own sub-unit Orders"):
        check_move(nodes, 2, 3)
    with pytest.raises(UnitError, match="top of the tree"):
        check_move(nodes, 1, 3)
    assert moved_paths(nodes, 3, 1) == {3: "/1/3/"}


def test_names_are_unique_among_siblings_whatever_their_case() -> None:
    assert check_name("  Customer   Care ", ["Marketing"]) == "Customer Care"
    with pytest.raises(UnitError, match="already a unit called “marketing”"):
        check_name("marketing", ["Marketing"])
    with pytest.raises(UnitError, match="needs a name"):
        check_name("   ", [])
    with pytest.raises(UnitError, match="at most 200"):
        check_name("x" * 201, [])
    assert check_name("x" * 200, []) == "x" * 200
    assert new_unit_name(["New unit", "new unit 2"]) == "New unit 3"


def test_colours_languages_and_targets() -> None:
    assert check_colour("#1E88E5") == "#1e88e5"
    for bad in ("1e88e5", "#1e88e", "#1e88e5ff", "red", "#gggggg"):
        with pytest.raises(UnitError, match="is not a colour"):
            check_colour(bad)
    assert check_languages("DE, en;de") == "de,en"
    assert check_languages("") == ""
    with pytest.raises(UnitError, match="“deu” is not a language code"):
        check_languages("deu")
    with pytest.raises(UnitError, match="“xx” is not a language code"):
        check_languages("en,xx")
    assert check_target(None) is None
    assert check_target(2) == 2.0
    assert check_target(720) == 720.0
    for bad in (0, -1, 720.5, math.nan, math.inf):
        with pytest.raises(UnitError):
            check_target(bad)


@given(st.text(max_size=300))
def test_the_checks_refuse_or_accept_any_text_without_crashing(text: str) -> None:
    for check in (check_colour, check_languages, lambda t: check_name(t, [])):
        with contextlib.suppress(UnitError):
            check(text)


def test_triage_and_the_root_stay() -> None:
    with pytest.raises(UnitError, match="top of the tree and cannot be deleted"):
        check_deletable(UnitNode(1, None, "Acme", "/1/"), is_triage=False)
    with pytest.raises(UnitError, match="Triage queue"):
        check_deletable(UnitNode(9, 1, "Triage", "/1/9/"), is_triage=True)
    check_deletable(UnitNode(4, 1, "Marketing", "/1/4/"), is_triage=False)


def test_holdings_read_as_a_sentence() -> None:
    assert (
        describe_holdings("Marketing", UnitHoldings(conversations=1204, accounts=2))
        == "Marketing holds 1,204 conversations and 2 accounts: choose where they go."
    )
    assert describe_holdings("PR", UnitHoldings(accounts=1, roles=3, sub_units=1)) == (
        "PR holds 1 account, 3 role assignments and 1 sub-unit: choose where they go."
    )
    assert UnitHoldings().empty
    assert not UnitHoldings(sub_units=1).empty
