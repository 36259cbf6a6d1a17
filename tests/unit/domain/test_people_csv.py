"""Reading a people CSV: every refusal by line, the plan, and never an exception."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.people_csv import (
    MAX_BYTES,
    ExistingPerson,
    ImportPreview,
    Problem,
    clean_email,
    read_people_csv,
    unit_paths,
)

UNITS = unit_paths(
    [
        (1, None, "Acme"),
        (2, 1, "Customer Care"),
        (3, 2, "Orders & Delivery"),
        (4, 1, "Marketing"),
    ]
)
ADA = ExistingPerson(10, "Ada Admin", "Ada@Example.org", True, frozenset({(1, "admin")}))
GONE = ExistingPerson(11, "Gus Gone", "gus@example.org", False)
PEOPLE = (ADA, GONE)
HEADER = "name,email,unit,role\n"


def read(text: str | bytes, people: tuple[ExistingPerson, ...] = PEOPLE) -> ImportPreview:
    return read_people_csv(text, UNITS, people)


def problems(text: str | bytes) -> list[str]:
    return [str(p) for p in read(text).problems]


def test_unit_paths_are_names_from_the_root() -> None:
    assert UNITS == {
        "Acme": 1,
        "Acme/Customer Care": 2,
        "Acme/Customer Care/Orders & Delivery": 3,
        "Acme/Marketing": 4,
    }


def test_a_good_file_plans_people_and_roles() -> None:
    preview = read(
        HEADER + "Bo Brown,bo@example.org,Acme/Customer Care,agent\n"
        "Bo Brown,BO@example.org,Acme/Marketing,Supervisor\n"
        "Cy Cole,cy@example.org,acme/customer care/orders & delivery,agent\n"
    )
    assert preview.ok
    assert preview.lines == 3
    plan = preview.plan
    assert [(p.name, p.email) for p in plan.add] == [
        ("Bo Brown", "bo@example.org"),
        ("Cy Cole", "cy@example.org"),
    ]
    assert [(r.line, r.unit_id, r.role) for r in plan.add[0].roles] == [
        (2, 2, "agent"),
        (3, 4, "supervisor"),
    ]
    assert plan.people_added == 2
    assert plan.roles_added == 3


def test_columns_in_any_order_with_a_byte_order_mark() -> None:
    preview = read("\ufeffRole, Unit ,EMAIL,name\r\nagent,Acme/Marketing,x@example.org,Xi\r\n")
    assert preview.ok
    assert preview.plan.add[0].roles[0].unit_id == 4


def test_existing_people_gain_roles_and_a_new_name_is_a_rename() -> None:
    preview = read(
        HEADER + "Ada Lovelace,ada@example.org,Acme/Marketing,agent\n"
        "Ada Lovelace,ADA@EXAMPLE.ORG,Acme,admin\n"
    )
    assert preview.ok
    plan = preview.plan
    assert plan.add == ()
    assert [(g.person_id, [r.unit_id for r in g.roles]) for g in plan.grant] == [(10, [4])]
    assert [(r.person_id, r.before, r.after, r.line) for r in plan.rename] == [
        (10, "Ada Admin", "Ada Lovelace", 2)
    ]
    assert plan.unchanged == 1  # she is admin of Acme already


def test_the_issue_example_unknown_unit_on_line_3() -> None:
    text = (
        HEADER + "Bo Brown,bo@example.org,Acme/Customer Care,agent\n"
        "Cy Cole,cy@example.org,Acme/Custmer Care,agent\n"
    )
    assert problems(text) == [
        "line 3: unknown unit “Acme/Custmer Care” (did you mean “Acme/Customer Care”?)"
    ]
    assert not read(text).ok


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "Bo,bo@example.org,Acme/Nowhere,agent",
            "line 2: unknown unit “Acme/Nowhere”",
        ),
        (
            "Bo,bo@example.org,Marketing,agent",
            "line 2: unknown unit “Marketing” (did you mean “Acme/Marketing”?)",
        ),
        (
            "Bo,bo@example.org,Acme,manager",
            "line 2: unknown role “manager” (one of agent, supervisor, strategist, admin)",
        ),
        (
            "Bo,bo@example.org,Acme,",
            "line 2: the role is empty (one of agent, supervisor, strategist, admin)",
        ),
        ("Bo,bo@example.org,,agent", "line 2: the unit is empty"),
        (" ,bo@example.org,Acme,agent", "line 2: the name is empty"),
        ("Bo,bo(at)example.org,Acme,agent", "line 2: “bo(at)example.org” is not an email address"),
        ("Bo,bo@localhost,Acme,agent", "line 2: “bo@localhost” is not an email address"),
        ("Bo,,Acme,agent", "line 2: the email is empty"),
        ("Bo\x00,bo@example.org,Acme,agent", "line 2: the name contains a control character"),
        ("Bo,bo@example.org,Acme", "line 2: missing column “role”"),
        ("Bo,bo@example.org,Acme,agent,extra", "line 2: 5 values, but the header has 4 columns"),
        (
            "Gus,gus@example.org,Acme,agent",
            "line 2: gus@example.org belongs to Gus Gone, who is deactivated: reactivate them "
            "in Settings first",
        ),
    ],
)
def test_every_refusal_names_its_line(line: str, expected: str) -> None:
    assert problems(HEADER + line + "\n") == [expected]


def test_the_same_email_with_two_names() -> None:
    text = (
        HEADER
        + "Bo Brown,bo@example.org,Acme,agent\nBob Brown,Bo@Example.org,Acme/Marketing,agent\n"
    )
    assert problems(text) == [
        "line 3: bo@example.org is called “Bob Brown” here but “Bo Brown” on line 2"
    ]


def test_a_duplicate_row() -> None:
    text = HEADER + "Bo,bo@example.org,Acme,agent\n\nBo,BO@example.org, acme ,AGENT\n"
    assert problems(text) == ["line 4: the same person, unit and role as line 2"]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("name,email,unit", ["line 1: missing column “role”"]),
        (
            "name,email,unit,role,phone",
            ["line 1: unknown column “phone” (the columns are name, email, unit, role)"],
        ),
        ("name,email,unit,role,role", ["line 1: the column “role” appears twice"]),
        ("", ["line 1: the header is missing: name,email,unit,role"]),
    ],
)
def test_the_header_is_required_and_exact(header: str, expected: list[str]) -> None:
    assert problems(header + "\n") == expected


def test_a_header_only_file_plans_nothing() -> None:
    preview = read(HEADER)
    assert preview.ok
    assert (preview.lines, preview.plan.people_added) == (0, 0)


def test_a_file_over_5_mb_is_refused() -> None:
    big = HEADER.encode() + b"Bo,bo@example.org,Acme,agent\n" * (20 * 2**20 // 29)
    preview = read(big)
    assert not preview.ok
    assert preview.lines == 0
    assert str(preview.problems[0]) == (
        "The file is 20.0 MB; at most 5 MB can be imported at once: split it into smaller files."
    )
    assert len(read(b"x" * (MAX_BYTES + 1)).problems) == 1


def test_a_file_that_is_not_utf8_is_refused() -> None:
    latin1 = (HEADER + "Zoë,zoe@example.org,Acme,agent\n").encode("latin-1")
    assert problems(latin1) == [
        "The file is not UTF-8 text: save it as “CSV UTF-8” and try again "
        "(the first wrong byte is on line 2)"
    ]
    assert len(problems("\ud800")) == 1  # a lone surrogate is no text either


def test_a_broken_quote_stops_the_reading_with_its_line() -> None:
    text = HEADER + 'Bo,bo@example.org,Acme,agent\n"Cy"x,cy@example.org,Acme,agent\n'
    found = problems(text)
    assert len(found) == 1
    assert found[0].startswith("line 3: this line cannot be read as CSV")


def test_a_quoted_field_over_two_lines_keeps_the_numbers_right() -> None:
    text = HEADER + '"Bo\nBrown",bo@example.org,Acme,agent\nCy,cy@example.org,Acme/Nope,agent\n'
    assert problems(text) == ["line 4: unknown unit “Acme/Nope”"]
    # the name's line break is tidied to a space
    assert read(HEADER + '"Bo\nBrown",bo@example.org,Acme,agent\n').plan.add[0].name == "Bo Brown"


def test_clean_email_lowers_and_checks() -> None:
    assert clean_email("  Ada@Example.ORG ") == ("ada@example.org", None)
    assert clean_email("a b@example.org")[1] is not None
    assert clean_email("ä@bücher.example") == ("ä@bücher.example", None)


def test_problem_text() -> None:
    assert str(Problem(3, "x")) == "line 3: x"
    assert str(Problem(0, "Whole file.")) == "Whole file."


# -- properties ---------------------------------------------------------------------------------

cell = st.one_of(
    st.sampled_from(["Acme", "Acme/Marketing", "agent", "admin", "bo@example.org", "Bo", ""]),
    st.text(max_size=12),
)
rows = st.lists(st.lists(cell, min_size=0, max_size=6), max_size=12)


def _csv(header: list[str], body: list[list[str]]) -> str:
    def quote(v: str) -> str:
        return '"' + v.replace('"', '""') + '"' if any(c in v for c in ',"\n\r') else v

    return "\n".join(",".join(quote(v) for v in r) for r in [header, *body])


@given(st.one_of(st.binary(max_size=400), st.text(max_size=400)))
def test_never_raises_on_arbitrary_input(data: bytes | str) -> None:
    preview = read(data)
    assert isinstance(preview, ImportPreview)
    assert all(p.line >= 0 for p in preview.problems)


@given(st.permutations(["name", "email", "unit", "role"]), rows)
def test_structured_files_never_raise_and_problems_point_at_lines(
    header: list[str], body: list[list[str]]
) -> None:
    text = _csv(header, body)
    preview = read(text)
    last_line = max(1, len(io.StringIO(text, newline="").readlines()))  # \r counts too
    assert all(1 <= p.line <= last_line for p in preview.problems)
    assert [p.line for p in preview.problems] == sorted(p.line for p in preview.problems)
    if preview.ok:  # a clean plan is consistent with the workspace
        for r in preview.plan.role_lines():
            assert UNITS[r.unit_path] == r.unit_id
        emails = [p.email for p in preview.plan.add]
        assert len(emails) == len(set(emails))
        assert all(e != "ada@example.org" for e in emails)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["Bo", "Cy", "Di"]),
            st.sampled_from(["bo@example.org", "cy@example.org", "ada@example.org"]),
            st.sampled_from(sorted(UNITS)),
            st.sampled_from(["agent", "supervisor", "strategist", "admin"]),
        ),
        max_size=20,
    )
)
def test_every_good_line_is_planned_once_or_refused(
    lines: list[tuple[str, str, str, str]],
) -> None:
    text = HEADER + "".join(",".join(line) + "\n" for line in lines)
    preview = read(text)
    if preview.ok:
        planned = {(r.unit_id, r.role) for r in preview.plan.role_lines()}
        assert preview.plan.roles_added + preview.plan.unchanged == len(lines)
        assert len(planned) <= len(lines)
    else:
        assert all(p.line >= 2 for p in preview.problems)
