"""The lab registry: every lab declares itself in one place, and the window and CLI find it here.

A lab module (``bceviz.model.labs.<id>``) defines ``LAB = LabInfo(...)``:
its id, title, the Qt-free state class, the GUI module that builds its
panels (imported only by the GUI), and a one-line description. Built-in labs
are listed in :data:`BUILTIN`; :func:`register_lab` adds one at run time
(the "add a lab" walk-through in ``docs/architecture.md`` and its test use
it). Nothing else in bceviz keeps a list of labs.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

from bceviz.model.labs.base import LabError, LabState


@dataclass(frozen=True)
class LabInfo:
    """What the window and the CLI need to know about a lab."""

    lab_id: str
    title: str
    #: Builds a fresh state (no arguments).
    state_factory: Callable[[], object]
    #: ``"package.module"`` of the GUI side: it defines ``PANELS`` (panel id ->
    #: class taking the state) and optionally ``CONTROLS`` (the lab's control panel class).
    gui_module: str
    description: str = ""


#: Modules of the built-in labs, in the navigator's order of chapters.
BUILTIN: tuple[str, ...] = (
    "bceviz.model.labs.logistic2d",
    "bceviz.model.labs.tipping",
    "bceviz.model.labs.multilabel",
    "bceviz.model.labs.multiclass",
    "bceviz.model.labs.segmentation",
    "bceviz.model.labs.hurdle",
    "bceviz.model.labs.gan",
    "bceviz.model.labs.graph",
    "bceviz.model.labs.predictions",
)

_registry: dict[str, LabInfo] = {}
_loaded = False


def _load_builtin() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for name in BUILTIN:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # a lab not built yet: skip; a broken import inside surfaces
                continue
            raise
        register_lab(module.LAB)


def register_lab(info: LabInfo) -> LabInfo:
    """Add (or replace) a lab; returns it."""
    if not info.lab_id or not info.lab_id.replace("_", "").isalnum():
        raise LabError(f"a lab id is letters, digits and _, got {info.lab_id!r}")
    _registry[info.lab_id] = info
    return info


def unregister_lab(lab_id: str) -> None:
    _registry.pop(lab_id, None)


def lab_ids() -> tuple[str, ...]:
    _load_builtin()
    return tuple(_registry)


def get_lab(lab_id: str) -> LabInfo:
    _load_builtin()
    try:
        return _registry[lab_id]
    except KeyError:
        raise LabError(f"unknown lab {lab_id!r} (known: {', '.join(_registry)})") from None


__all__ = ["BUILTIN", "LabError", "LabInfo", "LabState", "get_lab", "lab_ids", "register_lab",
           "unregister_lab"]
