"""Reliability of the window (issue 21): hostile names and files never crash, hang or lose work.

Every hostile file is generated here. The window under test is the real main
window on the default scenario (the ``main_window`` fixture) unless a test
needs its own.
"""

from __future__ import annotations

import os

import pytest
from PySide6.QtGui import QImage

from bceviz.model import atomic


# ----------------------------------------------------------------------------
# 6. --screenshot writes through the atomic writer


def test_a_failed_screenshot_keeps_the_old_png(main_window, tmp_path, monkeypatch):
    from bceviz.app import save_screenshot

    target = tmp_path / "shot.png"
    save_screenshot(main_window, str(target))
    old = target.read_bytes()
    assert QImage(str(target)).width() >= 1280

    def full_disk(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", full_disk)
    with pytest.raises(OSError, match="No space left on device"):
        save_screenshot(main_window, str(target))
    assert target.read_bytes() == old
    assert os.listdir(tmp_path) == ["shot.png"]
