"""``routing.msgs_per_s``: 100,000 messages through 200 rules, rule evaluation alone (>= 20,000/s).

The rules are a realistic mix: word lists (many drawn from the demo corpus, some combined with a
language, network, kind or sentiment condition), a few RE2 regular expressions, language rules,
sentiment rules, author, follower and time-of-day rules, a few with ``stop``. The messages are the
first messages of demo threads (all topics and languages), with the language and (English only)
sentiment the generator knows; detecting them is not part of this figure. Only
``RuleSet.evaluate`` is timed (the rule set is compiled once, before the clock starts).

Run alone: ``.venv/bin/python -m benchmarks.routing``.
"""

from __future__ import annotations

import random
import re
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from datetime import time as day_time
from typing import Any

from app.domain.demo_text import LANGUAGES, TOPICS, TextFactory
from app.domain.enums import MessageKind, Network, Priority
from app.domain.routing import (
    Action,
    AddTags,
    Assign,
    AuthorIn,
    Condition,
    FirstSeenAuthor,
    KindIn,
    LanguageIn,
    LocalTime,
    MarkSpam,
    MinFollowers,
    NetworkIn,
    Regex,
    RouteTo,
    RoutingInput,
    Rule,
    RuleSet,
    SentimentAbove,
    SentimentBelow,
    SetPriority,
    Words,
)

MESSAGES = 100_000
RULES = 200
TARGET = 20_000.0
UNITS = {i: f"Unit {i}" for i in range(1, 31)}
KEYWORDS = (
    "refund", "broken", "late", "lawyer", "recall", "invoice", "price", "discount", "press",
    "journalist", "partnership", "collab", "fire", "smoke", "dangerous", "crypto", "giveaway",
    "follow back", "money back", "not working", "customer service", "cancel my order",
    "Rückerstattung", "kaputt", "Lieferung", "reembolso", "roto", "pedido", "remboursement",
    "cassé", "rimborso", "reembolso", "urgent", "asap", "thank you", "love",
)  # fmt: skip
PATTERNS = (
    r"\b\d{6}\b",
    r"order\s*#?\s*\d{4,}",
    r"[\w.+-]+@[\w-]+\.[\w.]+",
    r"https?://\S+",
    r"\+?\d[\d\s-]{8,}\d",
    r"(?:free|win)\s+\w+",
    r"\b[A-Z]{3,}\b",
    r"!{3,}",
)


def corpus_words(factory: TextFactory, rng: random.Random) -> list[str]:
    """Words that occur in the demo text, so word rules really fire.

    The 150 commonest ("what", "have", "this", …) are left out: nobody routes on stop words.
    """
    counts: Counter[str] = Counter()
    for _ in range(400):
        thread = factory.thread(rng, rng.choice(LANGUAGES), rng.choice(TOPICS))
        counts.update(w.lower() for w in re.findall(r"[^\W\d_]{4,}", thread.messages[0].text))
    return [w for w, _ in counts.most_common()[150:]]


def build_rules(rng: random.Random, vocab: list[str]) -> list[Rule]:
    rules: list[Rule] = []
    langs = ("en", "de", "es", "fr", "it", "pt", "ja")

    def actions() -> tuple[Action, ...]:
        out: list[Action] = []
        if rng.random() < 0.6:
            out.append(RouteTo(rng.randrange(1, 31)))
        if rng.random() < 0.5:
            out.append(AddTags((rng.choice(("refund", "vip", "press", "legal", "safety")),)))
        if rng.random() < 0.15:
            out.append(SetPriority(rng.choice(list(Priority))))
        if rng.random() < 0.05:
            out.append(Assign(rng.randrange(1, 100)))
        return tuple(out) or (AddTags(("seen",)),)

    for i in range(RULES):
        kind = i % 20
        conds: list[Condition]
        if kind < 13:  # word lists, some with a second condition
            pool = KEYWORDS if rng.random() < 0.4 else vocab
            terms = tuple(rng.sample(pool, rng.randint(3, 10)))
            conds = [Words(terms, "all" if rng.random() < 0.1 else "any")]
            extra = rng.random()
            if extra < 0.2:
                conds.append(LanguageIn(frozenset(rng.sample(langs, 2))))
            elif extra < 0.3:
                conds.append(SentimentBelow(rng.uniform(-0.6, 0.0)))
            elif extra < 0.4:
                conds.append(NetworkIn(frozenset({rng.choice(list(Network))})))
            elif extra < 0.45:
                conds.append(KindIn(frozenset({MessageKind.DM, MessageKind.MENTION})))
        elif kind < 14:  # a regular expression
            conds = [Regex(rng.choice(PATTERNS))]
        elif kind < 17:  # language, with a network or kind
            conds = [LanguageIn(frozenset({rng.choice(langs)}))]
            if rng.random() < 0.5:
                conds.append(KindIn(frozenset({rng.choice(list(MessageKind))})))
        elif kind < 19:  # sentiment
            if rng.random() < 0.5:
                conds = [SentimentBelow(rng.uniform(-0.9, -0.5))]
            else:
                conds = [SentimentAbove(rng.uniform(0.6, 0.9))]
            if rng.random() < 0.5:
                conds.append(KindIn(frozenset({MessageKind.MENTION, MessageKind.COMMENT})))
        else:  # authors, followers, first seen, out of hours
            conds = [
                rng.choice(
                    (
                        AuthorIn(frozenset(f"user{n}" for n in range(50))),
                        MinFollowers(rng.choice((1_000, 10_000, 100_000))),
                        FirstSeenAuthor(),
                        LocalTime(frozenset({"sat", "sun"}), day_time(20), day_time(8)),
                    )
                )
            ]
        spam = (MarkSpam(),) if rng.random() < 0.02 else ()
        rules.append(
            Rule(
                id=i + 1,
                name=f"rule {i + 1}",
                position=i,
                enabled=rng.random() > 0.05,
                conditions=tuple(conds),
                actions=actions() + spam,
                stop=rng.random() < 0.03,
            )
        )
    return rules


def build_messages(factory: TextFactory, rng: random.Random) -> list[RoutingInput]:
    start = datetime(2024, 3, 1, tzinfo=UTC)
    out: list[RoutingInput] = []
    distinct = 20_000  # thread generation is slow; vary the rest by account, author and time
    texts: list[tuple[str, str, float]] = []
    for _ in range(distinct):
        lang = rng.choices(LANGUAGES, weights=(50, 15, 15, 8, 5, 5, 2))[0]
        thread = factory.thread(rng, lang, rng.choice(TOPICS))
        texts.append((thread.messages[0].text, lang, thread.sentiment))
    networks, kinds = list(Network), list(MessageKind)
    for i in range(MESSAGES):
        text, lang, score = texts[rng.randrange(distinct)]
        out.append(
            RoutingInput(
                account_id=rng.randrange(1, 20),
                network=networks[i % len(networks)],
                kind=kinds[rng.randrange(len(kinds))],
                text=text,
                language=lang if rng.random() > 0.05 else None,
                sentiment=score if lang == "en" else None,
                author_external_id=str(rng.randrange(1_000_000)),
                author_handle=f"user{rng.randrange(5_000)}",
                author_followers=int(rng.paretovariate(1.2) * 40),
                author_first_seen=rng.random() < 0.3,
                created_at=start + timedelta(seconds=rng.randrange(90 * 86400)),
            )
        )
    return out


def measure() -> tuple[float, dict[str, float]]:
    rng = random.Random(20240501)
    factory = TextFactory()
    rules = build_rules(rng, corpus_words(factory, rng))
    messages = build_messages(factory, rng)
    t0 = time.perf_counter()
    ruleset = RuleSet.compile(rules, UNITS, triage_unit_id=1, time_zone="Europe/Berlin")
    compile_s = time.perf_counter() - t0
    evaluate = ruleset.evaluate
    for m in messages[:2000]:  # warm up
        evaluate(m, 2)
    matched = routed = 0
    t0 = time.perf_counter()
    for m in messages:
        d = evaluate(m, 2)
        matched += bool(d.matches)
        routed += d.source == "rule"
    elapsed = time.perf_counter() - t0
    stats = {
        "compile_ms": compile_s * 1000,
        "matched_share": matched / len(messages),
        "routed_share": routed / len(messages),
    }
    return len(messages) / elapsed, stats


def main() -> int:
    from benchmarks.run import record, write_results

    rate, stats = measure()
    rows: list[dict[str, Any]] = []
    note = (
        f"target >= {TARGET:,.0f}; {RULES} rules, {MESSAGES:,} messages; "
        f"compile {stats['compile_ms']:.0f} ms; {stats['matched_share']:.0%} matched a rule, "
        f"{stats['routed_share']:.0%} routed by one"
    )
    record(rows, "routing.msgs_per_s", rate, "msg/s", None, note)
    write_results(rows)
    return 0 if rate >= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
