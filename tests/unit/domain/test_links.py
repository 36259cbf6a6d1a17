"""Links in a draft, their hosts as a browser reads them, and domains in ASCII form."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.links import domain_ascii, domain_problem, find_links, host_of, is_allowed, to_ascii

CYRILLIC_A = "\u0430"


def links(text: str) -> list[tuple[str, str | None]]:
    return [(text[link.start : link.end], link.ascii_host) for link in find_links(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("see https://acme.com/x.", [("https://acme.com/x", "acme.com")]),
        ("HTTP://Shop.ACME.com:8080/a?b#c", [("HTTP://Shop.ACME.com:8080/a?b#c", "shop.acme.com")]),
        ("go to www.acme.com, now", [("www.acme.com", "www.acme.com")]),
        ("bit.ly/abc!", [("bit.ly/abc", "bit.ly")]),
        ("visit acme.com today", [("acme.com", "acme.com")]),
        (
            "(https://en.wikipedia.org/wiki/Acme_(company))",
            [("https://en.wikipedia.org/wiki/Acme_(company)", "en.wikipedia.org")],
        ),
        ("node.js and e.g. and 3.14 and mail bob@acme.com", []),
        ("https://acme.com@evil.example/x", [("https://acme.com@evil.example/x", "evil.example")]),
        ("https://evil.example\\@acme.com", [("https://evil.example\\@acme.com", "evil.example")]),
        ("https://acme%2Ecom/", [("https://acme%2Ecom/", "acme.com")]),
        ("https://acme.com./", [("https://acme.com./", "acme.com")]),
        (f"https://{CYRILLIC_A}cme.com/", [(f"https://{CYRILLIC_A}cme.com/", "xn--cme-5cd.com")]),
        ("https://ａｃｍｅ。com/", [("https://ａｃｍｅ。com/", "acme.com")]),  # noqa: RUF001 - fullwidth on purpose
        ("münchen.de/karte", [("münchen.de/karte", "xn--mnchen-3ya.de")]),
        ("http://[::1]/x", [("http://[::1]/x", None)]),
        ("https://", []),
    ],
)
def test_links_and_their_hosts(text: str, expected: list[tuple[str, str | None]]) -> None:
    assert links(text) == expected


def test_link_ranges_are_character_offsets() -> None:
    text = "😀 日本 Straße https://acme.com/ü"
    [link] = find_links(text)
    assert text[link.start : link.end] == "https://acme.com/ü"
    assert link.host == "acme.com"


@pytest.mark.parametrize(
    ("host", "allowed", "ok"),
    [
        ("acme.com", ("acme.com",), True),
        ("shop.acme.com", ("acme.com",), True),
        ("evilacme.com", ("acme.com",), False),
        ("acme.com.evil.example", ("acme.com",), False),
        ("xn--cme-5cd.com", ("acme.com",), False),
        (None, ("acme.com",), False),
        ("acme.de", ("acme.com", "acme.de"), True),
    ],
)
def test_allowed_is_the_domain_or_a_subdomain(
    host: str | None, allowed: tuple[str, ...], ok: bool
) -> None:
    assert is_allowed(host, allowed) is ok


def test_to_ascii_reads_hosts_as_browsers_do() -> None:
    assert to_ascii("ACME.com") == "acme.com"
    assert to_ascii("my_site.acme.com") == "my_site.acme.com"
    assert to_ascii(f"{CYRILLIC_A}cme.com") == "xn--cme-5cd.com"
    assert to_ascii("i❤.ws") == "xn--i-7iq.ws"  # emoji labels: beyond IDNA 2008, as browsers
    assert to_ascii("") is None
    assert to_ascii("[::1]") is None
    assert host_of("https://user:pw@Acme.com:443/path") == "Acme.com"


@pytest.mark.parametrize(
    ("value", "ascii_domain"),
    [
        ("acme.com", "acme.com"),
        (" ACME.com. ", "acme.com"),
        ("münchen.de", "xn--mnchen-3ya.de"),
        ("xn--mnchen-3ya.de", "xn--mnchen-3ya.de"),
    ],
)
def test_policy_domains_in_ascii(value: str, ascii_domain: str) -> None:
    assert domain_problem(value) is None
    assert domain_ascii(value) == ascii_domain


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", "empty"),
        ("acme", "not a domain name"),
        ("https://acme.com/", "write the domain alone, like “acme.com”"),
        ("acme.com/path", "write the domain alone"),
        ("*.acme.com", "write “acme.com” (its subdomains are allowed too)"),
        ("192.168.0.1", "an address"),
        ("acme..com", "not a domain name"),
        ("-acme.com", "not a domain name"),
        ("xn--zz.com", "not a domain name"),
        ("acme com", "not a domain"),
        ("😀.com", "not a domain name"),
    ],
)
def test_what_is_not_a_domain(value: str, problem: str) -> None:
    found = domain_problem(value)
    assert found is not None
    assert problem in found


@given(st.text(max_size=80))
def test_finding_links_never_raises_and_ranges_are_valid(text: str) -> None:
    for link in find_links(text):
        assert 0 <= link.start < link.end <= len(text)
        assert text[link.start : link.end] == link.url


def test_lone_surrogates_do_not_break_link_finding() -> None:
    [link] = find_links("https://exa\ud800mple.com/x")
    assert link.ascii_host is None
