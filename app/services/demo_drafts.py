"""The demo's drafts, written through the drafts service and the publisher as people would.

Every state a draft can be in, from people of the demo company: drafts being written, posts and
replies waiting for a supervisor (one edited after a request for changes, so the Approvals
screen has a diff to show), a rejection and a request for changes with their reasons, scheduled
posts for the coming days, and :data:`APPROVED_DUE_NOW` approved drafts due now, so a first
``quiver publish --once`` (or the window's outbox) has work. With a connector factory, some
history too: posts the outbox published on the Sandbox network, a post that reached the Sandbox
account but not the Facebook Page (its token expired), and one on its way (``publishing``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.services.drafts import DraftsService
from app.services.publisher import ConnectorFor, Publisher
from app.storage.workspace import Database

#: At least this many approved drafts are due when the demo is new.
APPROVED_DUE_NOW = 22


@dataclass(frozen=True, slots=True)
class _Post:
    author: str  # e-mail local part
    unit: str  # unit key
    accounts: tuple[str, ...]  # account keys
    text: str
    approver: str | None  # who approves it (None: left pending)
    goal: str = "sg_community"


# Posts approved and due now: the outbox sends them first.
_DUE_POSTS: tuple[_Post, ...] = (
    _Post(
        "jamal.carter",
        "marketing",
        ("sbx_main",),
        "Rain or shine, Mia rides her Glide 2 14 km to work every day. What is your commute? 🚲",
        "emma.laurent",
    ),
    _Post(
        "jamal.carter",
        "marketing",
        ("sbx_main",),
        "Five tips for your first winter on an e-bike: tyres, lights, layers, battery care and "
        "a good lock.",
        "emma.laurent",
    ),
    _Post(
        "jamal.carter",
        "marketing",
        ("sbx_main",),
        "Our Lyon riders' club meets on Saturday at 10:00 by the Parc de la Tête d'Or gate. "
        "Everyone is welcome.",
        "emma.laurent",
    ),
    _Post(
        "jamal.carter",
        "marketing",
        ("sbx_main",),
        "Behind the scenes: how we test every Glide frame for 100,000 km before it leaves the "
        "factory.",
        "emma.laurent",
    ),
    _Post(
        "jamal.carter",
        "marketing",
        ("sbx_main",),
        "Share a photo of your ride with #AcmeRiders and we will feature our favourites on Friday.",
        "emma.laurent",
    ),
    _Post(
        "jamal.carter",
        "marketing",
        ("sbx_main",),
        "The Volt S in forest green is back in stock in every size.",
        "emma.laurent",
    ),
    _Post(
        "jonas.weber",
        "de",
        ("sbx_de",),
        "Unser Showroom in Kreuzberg hat jetzt auch samstags bis 18 Uhr geöffnet. Kommt vorbei! 🇩🇪",
        "katrin.vogel",
        "sg_community",
    ),
    _Post(
        "lea.hoffmann",
        "de",
        ("sbx_de",),
        "Fünf Tipps für den Winter auf dem E-Bike: Reifen, Licht, Kleidung, Akku und ein gutes "
        "Schloss.",
        "katrin.vogel",
    ),
    _Post(
        "jonas.weber",
        "de",
        ("sbx_de",),
        "Danke an alle, die beim Berliner Sternfahrt-Treffen dabei waren!",
        "katrin.vogel",
    ),
    _Post(
        "diego.morales",
        "es",
        ("sbx_es",),
        "¡Nuestra tienda de Madrid abre también los domingos de diciembre!",
        "lucia.fernandez",
    ),
    _Post(
        "carmen.ruiz",
        "es",
        ("sbx_es",),
        "Cinco consejos para rodar en invierno: neumáticos, luces, ropa, batería y un buen "
        "candado.",
        "lucia.fernandez",
    ),
    _Post(
        "diego.morales",
        "es",
        ("sbx_es",),
        "Gracias a todos los que vinisteis a la quedada ciclista de Valencia.",
        "lucia.fernandez",
    ),
    _Post(
        "tom.becker",
        "care_orders",
        ("sbx_care",),
        "Delivery update: orders placed before 14:00 still ship the same day all through December.",
        "priya.raman",
        "sg_response",
    ),
    _Post(
        "sofia.rossi",
        "care_tech",
        ("sbx_care",),
        "App update 4.2 is rolling out: battery range estimates are now accurate to within 5 %.",
        "chen.wei",
        "sg_response",
    ),
)

_DUE_POSTS += (
    _Post(
        "jamal.carter",
        "marketing",
        ("sbx_main",),
        "New in the app: plan a ride with the charging stops on the way.",
        "emma.laurent",
    ),
    _Post(
        "jamal.carter",
        "marketing",
        ("sbx_main",),
        "Meet the team: Ana, who tunes every Glide motor at our Lyon workshop.",
        "emma.laurent",
    ),
    _Post(
        "aisha.bello",
        "care_orders",
        ("sbx_care",),
        "Holiday returns: anything bought from today can be returned until 31 January.",
        "priya.raman",
        "sg_response",
    ),
    _Post(
        "noah.fischer",
        "care_tech",
        ("sbx_care",),
        "Tip: keep your battery between 20 and 80 % over the winter to make it last.",
        "chen.wei",
        "sg_response",
    ),
    _Post(
        "carmen.ruiz",
        "es",
        ("sbx_es",),
        "Nuevo en la app: planifica tu ruta con los puntos de carga del camino.",
        "lucia.fernandez",
    ),
)

# Replies (no rule asks for an approval of a calm reply): approved when submitted.
_REPLIES: tuple[str, ...] = (
    "Thanks for letting us know! Your order is on its way and should arrive tomorrow.",
    "Sorry for the wait. We have sent you a new delivery slot by e-mail.",
    "Glad you like it! Enjoy your rides this winter.",
    "Thank you for the kind words, we have passed them on to the team.",
    "Good question: the battery charges fully in about four hours.",
    "We have checked: your parcel left our warehouse this morning.",
    "Happy to help! The new lock fits every Glide model.",
    "Thanks! The spare parts you asked about are back in stock.",
)

_SCHEDULED: tuple[tuple[_Post, int], ...] = (
    (
        _Post(
            "jamal.carter",
            "marketing",
            ("sbx_main",),
            "Tomorrow at noon: a live Q&A with the Glide 3 design team. Bring your questions!",
            "emma.laurent",
        ),
        1,
    ),
    (
        _Post(
            "jonas.weber",
            "de",
            ("sbx_de",),
            "Am Wochenende: Probefahrten im Showroom Kreuzberg, ohne Anmeldung.",
            "katrin.vogel",
        ),
        2,
    ),
    (
        _Post(
            "diego.morales",
            "es",
            ("sbx_es",),
            "Este sábado: ruta guiada por el Retiro. ¡Apúntate en la tienda!",
            "lucia.fernandez",
        ),
        3,
    ),
    (
        _Post(
            "jamal.carter",
            "marketing",
            ("sbx_main",),
            "Next week: our year in numbers, and a thank-you to every rider.",
            "emma.laurent",
        ),
        6,
    ),
)

_PENDING: tuple[_Post, ...] = (
    _Post(
        "jamal.carter",
        "marketing",
        ("sbx_main",),
        "Friday owner story: Ana crosses Lyon on her Volt S with two kids and the week's shopping.",
        None,
    ),
    _Post(
        "daniel.novak",
        "pr",
        ("sbx_main",),
        "Statement: we are aware of reports about charger overheating and are investigating "
        "with our supplier. Safety comes first.",
        None,
        "sg_response",
    ),
    _Post(
        "lea.hoffmann",
        "de",
        ("sbx_de",),
        "Neu im Shop: der Kindersitz für das Volt S, TÜV-geprüft.",
        None,
    ),
)

_HISTORY: tuple[_Post, ...] = (
    _Post(
        "jamal.carter",
        "marketing",
        ("sbx_main",),
        "Welcome to Acme Mobility's new home on the Sandbox network! 👋",
        "emma.laurent",
    ),
    _Post(
        "jonas.weber",
        "de",
        ("sbx_de",),
        "Hallo Berlin! Ab heute beantworten wir eure Fragen auch hier.",
        "katrin.vogel",
    ),
    _Post(
        "diego.morales",
        "es",
        ("sbx_es",),
        "¡Hola! Ya estamos aquí para responder a vuestras preguntas.",
        "lucia.fernandez",
    ),
)
_PARTLY = _Post(
    "jamal.carter",
    "marketing",
    ("sbx_main", "fb_page"),
    "Our winter service check is now included with every Glide bought this month.",
    "emma.laurent",
)
_ON_ITS_WAY = _Post(
    "jamal.carter",
    "marketing",
    ("sbx_main",),
    "Thank you, Lyon: 10,000 rides this year on Acme bikes!",
    "emma.laurent",
)


class _Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def write_demo_drafts(
    db: Database,
    *,
    people: Mapping[str, int],
    units: Mapping[str, int],
    accounts: Mapping[str, int],
    goals: Mapping[str, int],
    now: datetime,
    reply_threads: Callable[[int, int], list[int]],
    connector_for: ConnectorFor | None = None,
) -> None:
    """Write the demo's drafts (see the module).

    Args:
        db: the demo workspace.
        people: the demo's people ids by e-mail local part.
        units: unit ids by unit key.
        accounts: account ids by account key.
        goals: social goal ids by key.
        now: the demo's reference time.
        reply_threads: ``(unit id, n)`` → up to ``n`` calm conversations of that unit that
            nobody answered yet.
        connector_for: builds an account's connector; with it, the history is published.
    """
    clock = _Clock(now - timedelta(hours=6))
    drafts = DraftsService(db, clock=clock)

    def post(p: _Post, *, schedule_at: datetime | None = None, submit: bool = True) -> int:
        author = people[p.author]
        draft_id = drafts.create(
            author,
            "post",
            units[p.unit],
            p.text,
            [accounts[a] for a in p.accounts],
            schedule_at=schedule_at,
            social_goal_id=goals.get(p.goal),
        )
        if submit:
            drafts.submit(author, draft_id)
            if p.approver is not None:
                clock.at += timedelta(minutes=2)
                drafts.approve(people[p.approver], draft_id, version=1)
        clock.at += timedelta(minutes=1)
        return draft_id

    if connector_for is not None:  # history: what the outbox published hours ago
        for p in (*_HISTORY, _PARTLY):
            post(p)
        Publisher(db, drafts, connector_for, clock=clock).run_once()
        on_its_way = post(_ON_ITS_WAY)
        drafts.start_publishing(on_its_way, clock.at)  # the outbox took it; not sent yet
    clock.at = now - timedelta(hours=3)
    for p in _DUE_POSTS:
        post(p)
    care = (
        ("care_orders", "tom.becker"),
        ("care_orders", "aisha.bello"),
        ("care_tech", "sofia.rossi"),
    )
    replies = iter(_REPLIES)
    for unit, author in care:
        for conversation in reply_threads(units[unit], 3):
            text = next(replies, None)
            if text is None:
                break
            draft_id = drafts.create(people[author], "reply", units[unit], text, [], conversation)
            drafts.submit(people[author], draft_id)
            clock.at += timedelta(minutes=2)
    for p, days in _SCHEDULED:
        at = (now + timedelta(days=days)).replace(hour=10, minute=0, second=0, microsecond=0)
        post(p, schedule_at=at)
    for p in _PENDING:
        post(p)
    # Written, not submitted yet.
    post(
        _Post(
            "jonas.weber",
            "de",
            ("sbx_de",),
            "Neu in Berlin: unser Showroom in Kreuzberg ist ab Samstag geöffnet! 🇩🇪",
            None,
        ),
        submit=False,
    )
    post(
        _Post(
            "jamal.carter",
            "marketing",
            ("sbx_main",),
            "Draft: spring collection teaser (photos from the shoot on Tuesday)",
            None,
        ),
        submit=False,
    )
    # Sent back with a reason, then edited: a new version waits again (the diff to look at).
    changed = post(
        _Post(
            "diego.morales",
            "es",
            ("sbx_es",),
            "¡Gracias por 10.000 pedidos en España! El precio más barato del mercado.",
            None,
        )
    )
    drafts.request_changes(
        people["lucia.fernandez"],
        changed,
        "A comparative price claim needs Legal: please say what the offer is instead.",
        version=1,
    )
    drafts.save_text(
        people["diego.morales"],
        changed,
        "¡Gracias por 10.000 pedidos en España! Este mes, revisión de invierno gratis con cada "
        "bici.",
    )
    drafts.submit(people["diego.morales"], changed)
    asked = post(
        _Post(
            "victor.ortiz",
            "sales",
            ("sbx_main",),
            "Fleet managers: our cargo bikes cut the cost of every delivery. Offer subject to "
            "availability. Terms: acme-mobility.example/terms",
            None,
            "sg_leads",
        )
    )
    drafts.request_changes(
        people["rachel.adams"],
        asked,
        "Give a figure we can stand behind, and link the fleet page.",
        version=1,
    )
    refused = post(
        _Post(
            "jamal.carter",
            "marketing",
            ("sbx_main",),
            "Our e-bikes are simply the best in the world, no contest.",
            None,
        )
    )
    drafts.reject(
        people["emma.laurent"],
        refused,
        "Superlatives we cannot prove: we don't post claims like this.",
        version=1,
    )
