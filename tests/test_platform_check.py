"""The app's own message names every missing X11 library and the packages to install."""

from __future__ import annotations

import sys

import pytest

from bceviz import platform_check


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the xcb check is Linux-only")
def test_missing_xcb_libraries_are_named_with_their_packages(monkeypatch):
    present = {"libxcb.so.1", "libGL.so.1"}
    monkeypatch.setattr(platform_check, "_loads", lambda so: so in present)
    message = platform_check.problem({"DISPLAY": ":0"})
    assert message is not None
    for package in ("libxcb-icccm4", "libxcb-keysyms1", "libxcb-cursor0"):
        assert package in message
    assert "apt-get install" in message


def test_no_problem_when_every_library_loads_or_offscreen(monkeypatch):
    monkeypatch.setattr(platform_check, "_loads", lambda so: True)
    assert platform_check.problem({"DISPLAY": ":0"}) is None
    monkeypatch.setattr(platform_check, "_loads", lambda so: False)
    assert platform_check.problem({"QT_QPA_PLATFORM": "offscreen"}) is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux displays")
def test_no_display_is_a_message_not_an_abort():
    message = platform_check.problem({})
    assert message is not None and "offscreen" in message
