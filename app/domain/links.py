"""Links in a draft and the domains they go to, compared in their ASCII (IDNA) form.

A link is what a reader can follow: text with a scheme (``https://…``), text starting with
``www.``, a bare domain with a path (``bit.ly/abc``), or a bare domain whose last label is a
top-level domain X knows (``acme.com``; X and Facebook make those clickable too, while
``node.js`` stays text). Trailing punctuation (``acme.com/x.``) is not part of a link; a closing
parenthesis is when the link opened one.

A link's host is read the way a browser reads it: after the scheme, before the first slash,
backslash, ``?`` or ``#``, after any ``user@``, without a port or a trailing dot, percent-escapes
decoded. Then it is written in ASCII: lowercase, and internationalized labels as punycode by
UTS 46 (what browsers do), so a look-alike stays different (``acme.com`` written with a Cyrillic
``a``, U+0430, is ``xn--cme-5cd.com``) while ``acme.com`` in fullwidth letters is ``acme.com``,
where a browser goes.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote

import idna

_LINK = re.compile(
    r"(?<![\w@.-])(?:(?:https?|ftp)://|www\.)[^\s<>\"'`]+"
    r"|(?<![\w@./-])(?:[^\W_](?:[\w-]*[^\W_])?\.)+(?P<tld>[^\W\d_]{2,})(?![\w@-])(?P<path>/[^\s<>\"'`]*)?",
    re.IGNORECASE,
)
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_AUTHORITY_END = re.compile(r"[/\\?#]")
_PORT = re.compile(r":\d*$")
_TRAILING = ".,;:!?'\")]}>\u2019\u201d\u00bb\u3002\u3001\uff01\uff1f\u2026"
_ASCII_DOMAIN = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)(?:\.(?!-)[a-z0-9-]{1,63}(?<!-))+$")


@dataclass(frozen=True, slots=True)
class Link:
    """A link found in a text: its range ``[start, end)``, as written, and its host."""

    start: int
    end: int
    url: str
    host: str  # as written ("Acme.COM"), "" when there is none
    ascii_host: str | None  # "acme.com", "xn--cme-5cd.com"; None: not a domain name at all


def find_links(text: str) -> list[Link]:
    """Every link in ``text``, in order (see the module for what counts)."""
    if "." not in text and "/" not in text:
        return []
    links: list[Link] = []
    for m in _LINK.finditer(text):
        if m.group("tld") is not None and m.group("path") is None and not _known_tld(m["tld"]):
            continue
        url = _trim(m.group())
        host = host_of(url)
        if not host:
            continue
        links.append(Link(m.start(), m.start() + len(url), url, host, to_ascii(host)))
    return links


def _trim(url: str) -> str:
    while url and url[-1] in _TRAILING:
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        url = url[:-1]
    return url


def host_of(url: str) -> str:
    """The host a browser would go to for ``url`` (``""`` when it names none)."""
    rest = _SCHEME.sub("", url, count=1)
    authority = _AUTHORITY_END.split(rest, maxsplit=1)[0]
    host = authority.rpartition("@")[2]
    if host.startswith("["):  # an IPv6 address
        return host.partition("]")[0] + "]"
    host = _PORT.sub("", host)
    if "%" in host:
        host = unquote(host, errors="replace")
    return host.rstrip(".")


def to_ascii(host: str) -> str | None:
    """``host`` in ASCII as browsers write it (lowercase, punycode), or ``None`` if no domain."""
    if not host or host.startswith("["):
        return None
    if host.isascii():
        return host.lower()
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError):
        pass
    try:  # what browsers accept beyond IDNA 2008 (emoji labels): UTS 46 mapping, then punycode
        mapped = idna.uts46_remap(host, std3_rules=False, transitional=False)
        labels = [
            label if label.isascii() else "xn--" + label.encode("punycode").decode("ascii")
            for label in mapped.split(".")
        ]
    except (idna.IDNAError, UnicodeError, ValueError):
        return None
    if not all(labels):
        return None
    return ".".join(labels).lower()


def domain_problem(value: str) -> str | None:
    """Why ``value`` cannot be an allowed link domain, or ``None`` when it can."""
    text = value.strip()
    if not text:
        return "the domain is empty"
    if any(c.isspace() for c in text) or any(c in text for c in "/:@\\?#"):
        suggestion = host_of(text) if _SCHEME.match(text) or "/" in text else ""
        hint = f"; write the domain alone, like “{suggestion}”" if suggestion else ""
        return f"“{text}” is not a domain{hint}"
    if text.startswith("*") or text.startswith("."):
        bare = text.lstrip("*.")
        return f"“{text}” is not a domain; write “{bare}” (its subdomains are allowed too)"
    ascii_domain = domain_ascii(text)
    if ascii_domain is None:
        return f"“{text}” is not a domain name"
    if ascii_domain.rsplit(".", 1)[-1].isdigit():
        return f"“{text}” is an address, not a domain"
    return None


def domain_ascii(value: str) -> str | None:
    """An allowed domain as written in a policy, in ASCII; ``None`` when it is not a domain.

    Stricter than :func:`to_ascii` (which reads what people link to): at least two labels of
    letters, digits and hyphens, and valid IDNA labels.
    """
    text = value.strip().rstrip(".")
    if not text.isascii():
        try:
            text = idna.encode(text, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError, ValueError):
            return None
    text = text.lower()
    if not _ASCII_DOMAIN.match(text):
        return None
    if "xn--" in text:
        try:
            idna.decode(text)
        except (idna.IDNAError, UnicodeError, ValueError):
            return None
    return text


def is_allowed(ascii_host: str | None, allowed: Iterable[str]) -> bool:
    """Whether a host (ASCII) is one of the ``allowed`` domains (ASCII) or a subdomain of one."""
    if ascii_host is None:
        return False
    return any(ascii_host == d or ascii_host.endswith("." + d) for d in allowed)


@functools.cache
def _tld_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    from twitter_text.regexp.valid_cctld import valid_cctld
    from twitter_text.regexp.valid_gtld import valid_gtld

    return valid_gtld, valid_cctld


def _known_tld(label: str) -> bool:
    label = label.lower()
    return any(p.fullmatch(label) for p in _tld_patterns())
