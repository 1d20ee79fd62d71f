"""Preferences kept between runs (QSettings) and the place of the autosaved session.

Kept: the main window's geometry and dock layout, the theme (dark or
light), the export scale, the last session file and the last folder used in
a file dialog. Everything lives in one INI file (the same format on every
platform, easy to inspect or delete):

* normally Qt's per-user location for organisation and application
  ``bceviz`` (e.g. ``~/.config/bceviz/bceviz.ini`` on Linux);
* if the environment variable ``BCEVIZ_CONFIG_DIR`` is set, ``bceviz.ini`` in
  that folder, and the autosaved session there too (tests and portable
  installs use this, so they never touch the user's real settings).

The autosaved session (``last-session.json``) is written on quit to
``QStandardPaths.AppDataLocation`` (``~/.local/share/bceviz`` on Linux) or to
``BCEVIZ_CONFIG_DIR``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional

from PySide6.QtCore import QByteArray, QSettings, QStandardPaths
from PySide6.QtWidgets import QMainWindow

ENV_DIR = "BCEVIZ_CONFIG_DIR"
ORGANIZATION = APPLICATION = "bceviz"
AUTOSAVE_NAME = "last-session.json"
#: Bumped when the docks change so an old layout is not restored onto new docks.
LAYOUT_VERSION = 1
EXPORT_SCALES = (1.0, 2.0, 3.0)


def open_settings() -> QSettings:
    """The settings store (see the module docstring for where it lives)."""
    folder = os.environ.get(ENV_DIR)
    if folder:
        return QSettings(str(Path(folder) / "bceviz.ini"), QSettings.Format.IniFormat)
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                     ORGANIZATION, APPLICATION)


def data_dir() -> Path:
    """The folder for the autosaved session (created when written, not here)."""
    folder = os.environ.get(ENV_DIR)
    if folder:
        return Path(folder)
    location = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    if not location:  # no writable location on this system: fall back to the home folder
        location = str(Path.home() / ".bceviz")
    return Path(location)


def autosave_path() -> Path:
    """Where the session is written on quit and read by "Restore last session"."""
    return data_dir() / AUTOSAVE_NAME


class Preferences:
    """Typed access to the stored preferences; each read falls back to a default."""

    def __init__(self, store: Optional[QSettings] = None) -> None:
        self.store = store if store is not None else open_settings()

    def _get(self, key: str, default: Any, kind: type) -> Any:
        value = self.store.value(key, default)
        if kind is bool:
            if isinstance(value, str):
                return value.strip().lower() in ("true", "1", "yes")
            return bool(value)
        try:
            return kind(value)
        except (TypeError, ValueError):
            return default

    # -- theme and export
    @property
    def dark(self) -> bool:
        return self._get("view/dark", False, bool)

    @dark.setter
    def dark(self, on: bool) -> None:
        self.store.setValue("view/dark", bool(on))

    @property
    def export_scale(self) -> float:
        scale = self._get("export/scale", 2.0, float)
        return scale if scale in EXPORT_SCALES else 2.0

    @export_scale.setter
    def export_scale(self, scale: float) -> None:
        self.store.setValue("export/scale", float(scale))

    # -- files
    @property
    def last_session(self) -> str:
        return self._get("files/last_session", "", str)

    @last_session.setter
    def last_session(self, path: str) -> None:
        self.store.setValue("files/last_session", str(path))

    @property
    def last_dir(self) -> str:
        return self._get("files/last_dir", "", str)

    @last_dir.setter
    def last_dir(self, path: str) -> None:
        self.store.setValue("files/last_dir", str(path))

    # -- window
    def save_window(self, window: QMainWindow) -> None:
        self.store.setValue("window/geometry", window.saveGeometry())
        self.store.setValue("window/state", window.saveState(LAYOUT_VERSION))

    def restore_window(self, window: QMainWindow) -> bool:
        """Put back the saved geometry and dock layout; False when there is none (or stale)."""
        geometry = self.store.value("window/geometry")
        state = self.store.value("window/state")
        restored = False
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            restored = window.restoreGeometry(geometry)
        if isinstance(state, QByteArray) and not state.isEmpty():
            restored = window.restoreState(state, LAYOUT_VERSION) and restored
        return restored

    def sync(self) -> None:
        self.store.sync()


__all__ = ["ENV_DIR", "AUTOSAVE_NAME", "LAYOUT_VERSION", "EXPORT_SCALES", "Preferences",
           "autosave_path", "data_dir", "open_settings"]
