"""Before Qt starts on Linux: say which system libraries a desktop (X11) window needs, by name.

Qt's own message when its xcb platform plugin cannot load names one library
(often libxcb-cursor0) while others are missing too, and then aborts. This
check loads each library the plugin links against and, if any is missing,
stops with one message that lists the Debian/Ubuntu packages to install.
No Qt here (it runs before PySide6 is imported).
"""

from __future__ import annotations

import ctypes
import os
import sys
from typing import Optional

#: Libraries Qt 6's xcb platform plugin links against -> the Debian/Ubuntu package.
XCB_LIBRARIES = {
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libdbus-1.so.3": "libdbus-1-3",
}


def _loads(soname: str) -> bool:
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def missing_libraries(names=None) -> list[tuple[str, str]]:
    """``[(soname, package)]`` of the libraries that cannot be loaded."""
    table = XCB_LIBRARIES if names is None else names
    return [(so, pkg) for so, pkg in table.items() if not _loads(so)]


def wants_xcb(environ=None) -> bool:
    """True when Qt will try its X11 (xcb) plugin: Linux, no platform chosen, an X display."""
    env = os.environ if environ is None else environ
    if not sys.platform.startswith("linux"):
        return False
    chosen = env.get("QT_QPA_PLATFORM", "")
    if chosen:
        return chosen.split(":")[0] == "xcb"
    return bool(env.get("DISPLAY")) and not env.get("WAYLAND_DISPLAY")


def problem(environ=None) -> Optional[str]:
    """The message to show instead of starting Qt, or None when it can start."""
    env = os.environ if environ is None else environ
    if not sys.platform.startswith("linux") or env.get("QT_QPA_PLATFORM"):
        if not wants_xcb(env):
            return None
    if not env.get("QT_QPA_PLATFORM") and not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        return ("no display: bceviz needs a desktop session (X11 or Wayland) to open its window. "
                "On a machine without a screen, --report, --screenshot and --save-session work "
                "headless, or set QT_QPA_PLATFORM=offscreen.")
    if not wants_xcb(env):
        return None
    missing = missing_libraries()
    if not missing:
        return None
    packages = " ".join(dict.fromkeys(pkg for _, pkg in missing))
    names = ", ".join(so for so, _ in missing)
    return (f"Qt cannot open a window on this X11 desktop: missing system libraries ({names}). "
            f"Install them with:\n    sudo apt-get install {packages}\n"
            "(on Fedora: dnf install xcb-util-cursor xcb-util-wm xcb-util-keysyms "
            "xcb-util-image xcb-util-renderutil libxkbcommon-x11)")


__all__ = ["XCB_LIBRARIES", "missing_libraries", "problem", "wants_xcb"]
