"""Background lanes and collectors: every result comes back, on the GUI thread, in order."""

from __future__ import annotations

import gc
import os
import sys
import threading

import pytest
from PySide6.QtCore import QObject

from bceviz.gui import background

WAIT_MS = 20_000


@pytest.fixture
def collector(qtbot):
    owner = QObject()
    c = background.Collector(owner)
    yield c
    qtbot.waitUntil(lambda: c.outstanding == 0, timeout=WAIT_MS)
    owner.deleteLater()


def test_results_arrive_on_the_gui_thread_in_order(qtbot, collector):
    lane = background.lane("test-order")
    gui = threading.get_ident()
    ran_on, got = [], []

    def job(k):
        def run():
            ran_on.append(threading.get_ident())
            return k * k
        return run

    for k in range(50):
        collector.start(lane, job(k), lambda r: got.append((r, threading.get_ident())),
                        pytest.fail)
    qtbot.waitUntil(lambda: len(got) == 50, timeout=WAIT_MS)
    assert [r for r, _ in got] == [k * k for k in range(50)]
    assert {t for _, t in got} == {gui}  # callbacks on the GUI thread
    assert len(set(ran_on)) == 1 and ran_on[0] != gui  # one worker thread, not the GUI's
    assert collector.outstanding == 0
    assert not collector._timer.isActive()  # no polling while nothing is out


def test_an_exception_reaches_the_error_callback(qtbot, collector):
    errors, done = [], []

    def boom():
        raise ValueError("bad grid")

    collector.start(background.lane("test-error"), boom, done.append, errors.append)
    collector.start(background.lane("test-error"), lambda: 7, done.append, errors.append)
    qtbot.waitUntil(lambda: len(errors) + len(done) == 2, timeout=WAIT_MS)
    assert done == [7]  # the lane survives a failing job
    assert isinstance(errors[0], ValueError) and "bad grid" in str(errors[0])


def test_cancel_drops_jobs_not_yet_started(qtbot, collector):
    lane = background.lane("test-cancel")
    gate = threading.Event()
    ran, got = [], []
    collector.start(lane, lambda: gate.wait(WAIT_MS / 1000), got.append, got.append)
    collector.start(lane, lambda: ran.append("second"), got.append, got.append)
    collector.cancel()
    gate.set()
    done = background.lane("test-cancel").submit(lambda: "after")
    assert done.result(timeout=WAIT_MS / 1000) == "after"
    qtbot.wait(50)
    assert ran == [] and got == []  # the cancelled job never ran; nothing was delivered
    assert collector.outstanding == 0


def test_a_lane_is_one_thread_per_name(qtbot):
    a = background.lane("test-same")
    assert background.lane("test-same") is a
    assert background.lane("test-other") is not a
    ids = {a.submit(threading.get_ident).result(timeout=10) for _ in range(5)}
    assert len(ids) == 1


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="nice is per thread on Linux")
def test_a_lane_can_run_below_the_interface():
    lane = background.lane("test-nice", nice=10)
    nice = lane.submit(lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
    assert nice.result(timeout=10) >= 10
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) < 10  # not this thread


def test_many_results_while_owners_come_and_go(qtbot):
    """No result is lost while other owners (and their collectors) are garbage-collected."""
    lane = background.lane("test-churn")
    got: list[int] = []
    keeper = QObject()
    main = background.Collector(keeper)
    for k in range(300):
        main.start(lane, lambda k=k: k, got.append, pytest.fail)
        gone = QObject()
        other = background.Collector(gone)
        other.start(lane, lambda: "unseen", pytest.fail, pytest.fail)
        del other, gone  # the owner goes away with a job out
        if k % 50 == 0:
            gc.collect()
            qtbot.wait(1)
    qtbot.waitUntil(lambda: len(got) == 300, timeout=WAIT_MS)
    assert got == list(range(300))
    keeper.deleteLater()


def test_a_failing_callback_is_reported_and_the_next_still_runs(qtbot, collector, monkeypatch):
    from bceviz.gui import safety

    reported, got = [], []
    monkeypatch.setattr(safety, "report_error", lambda exc, context="", **_: reported.append(
        (type(exc).__name__, context)))
    lane = background.lane("test-callback")
    gate = threading.Event()
    collector.start(lane, lambda: gate.wait(10), lambda _: 1 / 0, pytest.fail)
    collector.start(lane, lambda: "second", got.append, pytest.fail)
    gate.set()
    qtbot.waitUntil(lambda: got == ["second"], timeout=WAIT_MS)
    assert reported == [("ZeroDivisionError", "using a background result")]
