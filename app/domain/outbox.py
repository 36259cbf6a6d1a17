"""The outbox's rules, pure: when to try a target again, whose claim still holds, how a draft ends.

The publisher (``app/services/publisher.py``) sends each target of a publishing draft under a
claim it took with a conditional update. What these functions decide:

- :func:`backoff`: how long to wait after the ``attempt``-th transient failure (30 s doubling,
  at most 30 minutes, with up to a fifth of jitter so that workstations coming back online do
  not all retry in the same second); after :data:`MAX_ATTEMPTS` the target fails.
- :func:`claim_abandoned`: a claim whose publisher is gone. A claim names its host, process and
  a token (:func:`claim_token`); on the same host a claim by a process that no longer runs is
  abandoned at once (a crash, a kill), anywhere else only after :data:`LEASE` (longer than any
  connector's write takes: their timeouts are 30 s). An abandoned claim's write may or may not
  have gone out: it is reconciled with the network before anything is sent again.
- :func:`draft_outcome`: a publishing draft is published when every target is, failed when none
  is still on its way and one failed, and still publishing otherwise.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.domain.enums import DraftState, DraftTargetState

#: Transient failures of one target before it fails for good.
MAX_ATTEMPTS = 8
#: Reconciles that could not ask the network before the target goes to a person.
MAX_RECONCILES = 5
FIRST_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(minutes=30)
#: After "it may have been published", the network is asked this much later (it may lag).
RECONCILE_DELAY = timedelta(seconds=20)
#: A claim from another host (or a live process reused its number) holds this long.
LEASE = timedelta(minutes=10)


def backoff(attempt: int, rng: random.Random | None = None) -> timedelta:
    """The wait after the ``attempt``-th failed try (1 = the first), jitter included."""
    base: timedelta = min(MAX_BACKOFF, FIRST_BACKOFF * (2 ** max(0, min(attempt - 1, 16))))
    jitter: float = (rng or random.Random()).uniform(0.0, 0.2)
    return base + base * jitter


@dataclass(frozen=True, slots=True)
class Claim:
    """Who holds a target: ``host/pid/token``, as :func:`claim_token` writes it."""

    host: str
    pid: int | None
    token: str

    @classmethod
    def parse(cls, text: str) -> Claim:
        """The claim ``text`` names; a foreign or damaged one has no pid (held for the lease)."""
        parts = text.split("/")
        if len(parts) < 3:
            return cls("", None, text)
        pid = parts[-2]
        return cls("/".join(parts[:-2]), int(pid) if pid.isdigit() else None, parts[-1])


def claim_token(host: str, pid: int, token: str) -> str:
    """How a publisher names its claims (``claimed_by``)."""
    return f"{host}/{pid}/{token}"


def claim_abandoned(
    claimed_by: str | None,
    claimed_at: datetime | None,
    now: datetime,
    *,
    host: str,
    alive: Callable[[int], bool],
    lease: timedelta = LEASE,
) -> bool:
    """Whether nobody works on a target claimed by ``claimed_by`` at ``claimed_at``.

    Args:
        claimed_by: the claim (``None``: nobody holds it).
        claimed_at: when it was taken (``None``: long ago).
        now: the time now.
        host: this computer's name.
        alive: whether a process of this computer with that number runs.
        lease: how long a claim holds that cannot be checked.
    """
    if claimed_by is None:
        return True
    if claimed_at is None or now - claimed_at >= lease:
        return True
    claim = Claim.parse(claimed_by)
    return claim.host == host and claim.pid is not None and not alive(claim.pid)


def draft_outcome(target_states: Iterable[str]) -> DraftState:
    """Where a publishing draft stands from its targets' states."""
    states = [DraftTargetState(s) for s in target_states]
    if states and all(s is DraftTargetState.PUBLISHED for s in states):
        return DraftState.PUBLISHED
    on_the_way = (DraftTargetState.PENDING, DraftTargetState.PUBLISHING)
    if any(s in on_the_way for s in states) or not states:
        return DraftState.PUBLISHING
    return DraftState.FAILED
