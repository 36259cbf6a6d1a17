"""The Sandbox network keeps what it received in its own file, as a remote network would.

A connector made after a crash (or in another process) finds what an earlier one wrote;
``quiver sandbox received`` prints it; a file that cannot be used is a network that did not
answer, never "not published".
"""

from __future__ import annotations

import json
import multiprocessing as mp
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.bootstrap import sandbox_network_for
from app.cli import main
from app.connectors.base import MaybePublished, TransientError
from app.connectors.sandbox import SandboxConnector
from app.connectors.sandbox_network import SandboxNetwork, network_file_beside
from app.models import Account
from app.storage.workspace import open_database

T0 = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)


def connector(network: SandboxNetwork, handle: str = "acmecare") -> SandboxConnector:
    return SandboxConnector(handle, "sbx-101", network=network, clock=lambda: T0)


def test_a_new_connector_finds_what_an_earlier_one_wrote(tmp_path: Path) -> None:
    path = tmp_path / "ws.sqlite.sandbox"
    first = connector(SandboxNetwork(path))
    post = first.publish("Our autumn timetable is out")
    reply = first.reply("Sorry about that!", in_reply_to="c-1", thread_external_id="t-1")
    dm = first.send_dm("Your refund is on its way", thread_external_id="d-1", recipient_id="u")
    other = connector(SandboxNetwork(path), handle="acmenews")
    other.publish("Our autumn timetable is out")

    # "after a crash": a new network object on the same file, a new connector
    again = connector(SandboxNetwork(path))
    since = T0 - timedelta(minutes=1)
    assert again.find_published("Our autumn timetable is out", since=since) == post
    assert (
        again.find_published("Sorry about that!", since=since, kind="reply", in_reply_to="c-1")
        == reply
    )
    assert (
        again.find_published(
            "Your refund is on its way", since=since, kind="dm", thread_external_id="d-1"
        )
        == dm
    )
    assert again.find_published("never written", since=since) is None
    assert again.find_published("Our autumn timetable is out", since=T0 + timedelta(1)) is None
    assert [w.kind for w in again.published] == ["post", "reply", "dm"]  # this account's only
    assert len({w.result.external_id for w in SandboxNetwork(path).received()}) == 4


def _write_many(path: str, handle: str, n: int) -> None:
    net = SandboxNetwork(Path(path))
    c = SandboxConnector(handle, handle, network=net)
    for i in range(n):
        c.publish(f"{handle} post {i}")


def test_two_processes_writing_at_once_lose_nothing_and_share_no_id(tmp_path: Path) -> None:
    path = tmp_path / "shared.sandbox"
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_write_many, args=(str(path), h, 40)) for h in ("a", "b")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    writes = SandboxNetwork(path).received()
    assert len(writes) == 80
    assert len({w.result.external_id for w in writes}) == 80
    assert sorted(w.text for w in writes if w.account == "a") == sorted(
        f"a post {i}" for i in range(40)
    )


def test_a_file_that_cannot_be_used_is_a_network_that_did_not_answer(tmp_path: Path) -> None:
    blocked = tmp_path / "blocked.sandbox"
    blocked.mkdir()  # a folder where the file should be
    c = connector(SandboxNetwork(blocked))
    with pytest.raises(MaybePublished, match=r"blocked\.sandbox"):
        c.publish("hello")
    with pytest.raises(TransientError):
        c.find_published("hello", since=T0)


def test_the_workspace_names_its_network_file_and_the_cli_prints_what_it_received(
    workspace_url: Callable[[str], str], capsys: pytest.CaptureFixture[str]
) -> None:
    url = workspace_url("demo")
    db = open_database(url)
    try:
        network = sandbox_network_for(db)
        if db.path is not None:
            assert network.path == network_file_beside(db.path)
            assert network.path.parent == db.path.parent
        with db.engine.connect() as conn:
            handle = (
                conn.execute(
                    select(Account.handle).where(Account.network == "sandbox").order_by(Account.id)
                )
                .scalars()
                .first()
            )
    finally:
        db.close()
    assert handle is not None
    connector(network, handle).publish('Ünïcode and "quotes" stay as they are')
    connector(network, handle).reply("Thanks!", in_reply_to="m-1", thread_external_id="t-9")

    assert main(["sandbox", "received", "--workspace", url]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(x["account"], x["kind"], x["text"]) for x in lines[-2:]] == [
        (handle, "post", 'Ünïcode and "quotes" stay as they are'),
        (handle, "reply", "Thanks!"),
    ]
    assert lines[-1]["in_reply_to"] == "m-1"
    assert datetime.fromisoformat(lines[-1]["at"]) == T0
    assert all(x["id"].startswith(f"sbx-out-{handle}-") for x in lines[-2:])
