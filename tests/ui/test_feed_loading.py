"""The list's first page is read in a worker: a slow one never blocks the GUI thread, a stale
one is never shown, the open conversation stays open, an error is said, and the rest follows."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, QTimer

from app.config import LocalPrefs
from app.domain.rows import SORT_DUE, ConversationRow, FeedFilter
from app.services.container import Services
from app.services.inbox import InboxService
from app.ui.inbox.feed_model import ConversationFeedModel
from app.ui.inbox.feed_view import LOADING_TEXT
from app.ui.main_window import MainWindow
from tests.ui.feed import LOAD_MS, set_filter

ALL = FeedFilter()
BACKLOG = FeedFilter(statuses=("new", "open", "waiting"))


class GatedInbox(InboxService):
    """The real inbox, whose first pages (no ``after``) are held in the worker until let go.

    The page is read first, then held: what it returns is what the database held when the
    worker read it, as with a slow query that has already taken its snapshot.
    """

    def __init__(self, services: Services) -> None:
        super().__init__(services.db)
        self.gate = threading.Event()
        self.gate.set()
        self.read = threading.Event()  # a held first page has been read
        self.fail = ""  # raise this instead of returning the page
        self.first_pages: list[FeedFilter] = []
        self.threads_read = 0

    def hold(self) -> None:
        self.read.clear()
        self.gate.clear()

    def page(
        self,
        query: FeedFilter,
        after: tuple[int, int] | None = None,
        limit: int = 200,
        *,
        me: int | None = None,
    ) -> list[ConversationRow]:
        rows = super().page(query, after=after, limit=limit, me=me)
        if after is None:
            self.first_pages.append(query)
            self.read.set()
            if not self.gate.wait(10):
                raise TimeoutError("the test never let the page go")
            if self.fail:
                raise RuntimeError(self.fail)
        return rows

    def thread(self, conversation_id: int, *, limit: int = 500) -> Any:
        self.threads_read += 1
        return super().thread(conversation_id, limit=limit)


@pytest.fixture
def gated(demo_services: Services) -> Any:
    inbox = GatedInbox(demo_services)
    yield inbox
    inbox.gate.set()  # never leave a worker waiting


def _all_ids(services: Services, query: FeedFilter) -> list[int]:
    ids: list[int] = []
    after = None
    while page := services.inbox.page(query, after=after, limit=100):
        ids += [r.id for r in page]
        after = page[-1].key_for(query.sort)
    return ids


def _ids(model: ConversationFeedModel) -> list[int]:
    return [model.row_at(i).id for i in range(model.rowCount())]


def _window(qtbot: Any, services: Services, gated: GatedInbox, tmp_path: Path) -> MainWindow:
    admin = services.directory.person_by_email("ingrid.solberg@acme-mobility.example")
    assert admin is not None
    window = MainWindow(replace(services, inbox=gated), admin, LocalPrefs(tmp_path / "p.json"))
    qtbot.addWidget(window)
    window.resize(1400, 860)
    with qtbot.waitSignal(window.first_page_painted, timeout=LOAD_MS):
        window.show()
    return window


def test_a_slow_first_page_leaves_the_event_loop_running(
    qtbot: Any, demo_services: Services, gated: GatedInbox, tmp_path: Path
) -> None:
    window = _window(qtbot, demo_services, gated, tmp_path)
    inbox = window.inbox
    model, view = inbox.model, inbox.view
    before = _ids(model)
    care = next(u for u in demo_services.inbox.units() if u.name == "Customer Care")
    gated.hold()
    ticks: list[int] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(10)
    inbox.unit_tree.select_unit(care.id)  # returns at once: the page is read in the worker
    assert model.loading
    assert model.filter.unit_id == care.id
    assert inbox.title.text() == "Customer Care"
    assert gated.read.wait(5)
    # The GUI thread goes on (timers fire, the view paints) while the worker holds the page;
    # after a moment the list says it is loading, over the rows still listed.
    qtbot.waitUntil(view.loading_note.isVisible, timeout=LOAD_MS)
    assert view.loading_note.text() == LOADING_TEXT
    assert view.property("stale")  # the rows listed are greyed: about to be replaced
    assert len(ticks) >= 5
    assert _ids(model) == before
    assert not inbox.empty_note.isVisible()
    with qtbot.waitSignal(model.loaded, timeout=LOAD_MS):
        gated.gate.set()
    timer.stop()
    assert not model.loading
    assert not view.loading_note.isVisible()
    assert not view.property("stale")
    subtree = set(demo_services.inbox.subtree(care.id))
    assert model.rowCount() > 0
    assert {model.row_at(i).unit_id for i in range(model.rowCount())} <= subtree
    assert _ids(model) == [r.id for r in demo_services.inbox.page(model.filter, limit=200)]


def test_a_fast_first_page_shows_no_loading_note(qtbot: Any, demo_services: Services) -> None:
    from app.ui.inbox.feed_view import FeedView

    view = FeedView()
    qtbot.addWidget(view)
    view.setModel(ConversationFeedModel(demo_services.inbox, view))
    view.show()
    view.show_loading(True)
    view.show_loading(False)  # the page came before the delay: nothing flashes
    assert not view.loading_note.isVisible()
    view.show_loading(True)
    qtbot.waitUntil(view.loading_note.isVisible, timeout=LOAD_MS)  # a slow one says so
    view.show_loading(False)
    assert not view.loading_note.isVisible()


def test_a_stale_first_page_is_dropped_never_shown(
    qtbot: Any, demo_services: Services, gated: GatedInbox, qtmodeltester: Any
) -> None:
    model = ConversationFeedModel(gated)
    set_filter(qtbot, model, BACKLOG)
    shown: list[FeedFilter] = []
    model.modelReset.connect(lambda: shown.append(model.listed_filter))
    loaded: list[FeedFilter] = []
    model.loaded.connect(lambda: loaded.append(model.listed_filter))
    x_only, resolved = FeedFilter(networks=("x",)), FeedFilter(statuses=("resolved",))
    gated.hold()
    model.set_filter(x_only)
    assert gated.read.wait(5)  # read, held in the worker
    model.set_filter(resolved)  # the person changed their mind meanwhile
    model.set_filter(ALL)
    model.set_filter(resolved)
    with qtbot.waitSignal(model.loaded, timeout=LOAD_MS):
        gated.gate.set()
    assert shown == [resolved]  # one reset, to the filter asked for last
    assert loaded == [resolved]
    # The held page was read and dropped; of the three asked for meanwhile, only the last.
    assert gated.first_pages[-2:] == [x_only, resolved]
    assert _ids(model) == [r.id for r in demo_services.inbox.page(resolved, limit=200)]
    assert all(model.row_at(i).status == "resolved" for i in range(model.rowCount()))
    qtmodeltester.check(model)


def test_paging_waits_for_the_first_page(
    qtbot: Any, demo_services: Services, gated: GatedInbox
) -> None:
    model = ConversationFeedModel(gated)
    set_filter(qtbot, model, ALL)
    assert model.canFetchMore(QModelIndex())
    before = _ids(model)
    gated.hold()
    due = FeedFilter(sort=SORT_DUE)
    model.set_filter(due)
    assert not model.canFetchMore(QModelIndex())  # the rows listed are not the ones to page on
    model.fetchMore(QModelIndex())
    model.fetch_to_end()
    assert _ids(model) == before
    with qtbot.waitSignal(model.loaded, timeout=LOAD_MS):
        gated.gate.set()
    expected = _all_ids(demo_services, due)
    assert _ids(model) == expected[:200]
    assert model.canFetchMore(QModelIndex())
    model.fetchMore(QModelIndex())  # and now it pages, after the new first page
    assert _ids(model) == expected[:400]


def test_what_changed_while_the_page_was_read_is_on_it(
    qtbot: Any, demo_services: Services, gated: GatedInbox
) -> None:
    s = demo_services
    model = ConversationFeedModel(gated)
    set_filter(qtbot, model, ALL)
    target = model.row_at(3)
    assert target.status != "resolved"
    gated.hold()
    model.reload()
    assert gated.read.wait(5)  # the worker read the page before the changes below
    ingrid = s.directory.person_by_email("ingrid.solberg@acme-mobility.example")
    assert ingrid is not None
    s.triage.resolve(ingrid.id, target.id)
    model.refresh_rows([target.id])  # what the inbox does after a triage action
    sandbox = next(ref for ref, _ in s.polling.accounts() if ref.network == "sandbox")
    arrived = s.polling.poll(sandbox).new_conversation_ids
    assert arrived
    assert model.merge_newer() == 0  # arrivals wait for the page being read
    with qtbot.waitSignal(model.loaded, timeout=LOAD_MS):
        gated.gate.set()
    assert model.row_at(0).id in arrived  # merged on top once the page was listed
    place = model.row_of(target.id)
    assert place is not None
    assert model.row_at(place).status == "resolved"
    ids = _ids(model)
    assert len(set(ids)) == len(ids)


def test_the_open_conversation_stays_open_when_still_listed(
    qtbot: Any, demo_services: Services, gated: GatedInbox, tmp_path: Path
) -> None:
    window = _window(qtbot, demo_services, gated, tmp_path)
    inbox = window.inbox
    model, view = inbox.model, inbox.view
    view.selectRow(3)
    chosen = model.row_at(3)
    assert inbox.open_row() == chosen
    reads = gated.threads_read
    shown = inbox.thread_pane.texts()
    assert shown

    # A narrower filter that still lists it: it stays selected and open, not read again.
    gated.hold()
    _choose(inbox.network_filter, chosen.network)
    qtbot.waitUntil(view.loading_note.isVisible, timeout=LOAD_MS)
    assert inbox.open_row() == chosen  # the thread stays while the new rows load
    with qtbot.waitSignal(model.loaded, timeout=LOAD_MS):
        gated.gate.set()
    assert {model.row_at(i).network for i in range(model.rowCount())} == {chosen.network}
    [selected] = view.selectionModel().selectedRows()
    assert model.row_at(selected.row()).id == chosen.id
    assert view.currentIndex().row() == selected.row()
    open_row = inbox.open_row()
    assert open_row is not None
    assert open_row.id == chosen.id
    assert inbox.thread_pane.texts() == shown
    assert gated.threads_read == reads

    # One that does not list it: the thread closes.
    other = next(
        label for label, v in _offered(inbox.network_filter) if v not in ((), (chosen.network,))
    )
    with qtbot.waitSignal(model.loaded, timeout=LOAD_MS):
        inbox.network_filter.setCurrentText(other)
    assert model.row_of(chosen.id) is None
    assert inbox.open_row() is None
    assert inbox.thread_pane.texts() == []
    assert not view.selectionModel().hasSelection()


def test_a_failed_first_page_is_said_and_f5_tries_again(
    qtbot: Any, demo_services: Services, gated: GatedInbox, tmp_path: Path
) -> None:
    window = _window(qtbot, demo_services, gated, tmp_path)
    inbox = window.inbox
    model = inbox.model
    gated.fail = "database is locked\n[SQL: SELECT …]"
    with qtbot.waitSignal(model.load_failed, timeout=LOAD_MS) as failed:
        inbox.status_filter.setCurrentText("All statuses")
    assert failed.args == ["RuntimeError: database is locked"]  # the first line only: no SQL
    assert inbox.feed_error.isVisible()
    assert inbox.feed_error.text() == (
        "The conversations could not be read (RuntimeError: database is locked). F5 tries again."
    )
    assert "database is locked" in window.statusBar().currentMessage()
    assert model.rowCount() == 0  # not the previous filter's rows under this filter's bar
    assert not inbox.empty_note.isVisible()  # "nothing matches" is not known
    assert not model.loading

    gated.fail = ""
    with qtbot.waitSignal(model.loaded, timeout=LOAD_MS):
        inbox.refresh()  # F5
    assert not inbox.feed_error.isVisible()
    assert model.rowCount() == 200
    assert model.error == ""


def _offered(combo: Any) -> list[tuple[str, Any]]:
    from app.ui.inbox.filter_bar import _VALUE

    return [(combo.itemText(i), _tuple(combo.itemData(i, _VALUE))) for i in range(combo.count())]


def _tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _choose(combo: Any, network: str) -> None:
    label = next(text for text, v in _offered(combo) if v == (network,))
    combo.setCurrentText(label)


def test_enter_in_the_search_box_opens_the_first_result_once_listed(
    qtbot: Any, demo_services: Services, gated: GatedInbox, tmp_path: Path
) -> None:
    window = _window(qtbot, demo_services, gated, tmp_path)
    inbox = window.inbox
    model = inbox.model
    word = "order"
    gated.hold()
    inbox.filter_bar.search.setText(word)
    inbox.filter_bar.search.returnPressed.emit()
    assert model.loading
    assert inbox.view.hasFocus()  # the list has the keyboard...
    assert inbox.open_row() is None  # ...but no row of the list being replaced is opened
    with qtbot.waitSignal(model.loaded, timeout=LOAD_MS):
        gated.gate.set()
    assert model.filter.text == word
    first = inbox.open_row()
    assert first is not None
    assert first.id == model.row_at(0).id
    assert first.id == demo_services.inbox.page(model.filter, limit=1)[0].id
