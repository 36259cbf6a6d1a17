"""The unit tree's pure functions: paths, sub-trees and roll-ups."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from app.domain.units import UnitNode, make_path, rollup, subtree_ids


@st.composite
def trees(draw: st.DrawFn) -> list[UnitNode]:
    n = draw(st.integers(min_value=1, max_value=25))
    nodes: list[UnitNode] = [UnitNode(1, None, "root", make_path(None, 1))]
    for uid in range(2, n + 1):
        parent = draw(st.sampled_from(nodes))
        nodes.append(UnitNode(uid, parent.id, f"u{uid}", make_path(parent.path, uid)))
    return nodes


def _descendants(nodes: list[UnitNode], root: int) -> set[int]:
    out, frontier = {root}, [root]
    while frontier:
        current = frontier.pop()
        for n in nodes:
            if n.parent_id == current:
                out.add(n.id)
                frontier.append(n.id)
    return out


def test_paths_nest() -> None:
    assert make_path(None, 1) == "/1/"
    assert make_path("/1/", 14) == "/1/14/"


def test_a_path_prefix_is_not_a_sibling() -> None:
    nodes = [
        UnitNode(1, None, "root", "/1/"),
        UnitNode(2, 1, "a", "/1/2/"),
        UnitNode(21, 1, "b", "/1/21/"),
    ]
    assert subtree_ids(nodes, 2) == (2,)


@given(trees(), st.data())
def test_subtree_is_the_unit_and_all_its_descendants(
    nodes: list[UnitNode], data: st.DataObject
) -> None:
    root = data.draw(st.sampled_from(nodes)).id
    assert set(subtree_ids(nodes, root)) == _descendants(nodes, root)
    assert subtree_ids(nodes, root)[0] == root


@given(trees(), st.data())
def test_rollup_sums_each_sub_tree(nodes: list[UnitNode], data: st.DataObject) -> None:
    own = {n.id: data.draw(st.integers(min_value=0, max_value=1000)) for n in nodes}
    totals = rollup(nodes, own)
    for n in nodes:
        assert totals[n.id] == sum(own[d] for d in _descendants(nodes, n.id))
    assert totals[1] == sum(own.values())
