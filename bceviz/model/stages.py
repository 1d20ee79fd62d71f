"""The stage catalogue: one idea per stage, each a versioned JSON file, grouped into chapters.

A stage (see ``docs/architecture.md``, "Stages") names its lab, the two to
four panels that carry the idea and how they are arranged, the caption, what
to do first, what stays hidden until revealed, and the lab's ``settings``.
Files live in ``resources/stages/<id>.json``; the 2-D lab's lessons keep their
historical place, ``resources/scenarios/<id>.json``, where the scenario keys
*are* the 2-D lab's settings (see :mod:`bceviz.model.scenarios`).

Stage keys (format_version 1)::

    id          lower-case letters, digits, - and _; equals the file name
    lab         a registered lab id (bceviz.model.labs)
    chapter     the navigator's chapter title (CHAPTERS gives the order)
    order       position (lower first), default 1000
    title       one line
    caption     one or two sentences: the idea and what to look at
    first       what to do first (shown under the caption)
    layout      rows of panel ids, e.g. [["loss_curve", "samples"], ["formula"]];
                "workbench" for the lab's full workbench
    row_stretch relative row heights (one per row), default equal
    col_stretch relative widths per row (one list per row), default equal
    controls    true to show the lab's controls beside the panels
    hidden      names of numbers kept hidden until the user presses Reveal
    settings    the lab's settings (validated by the lab's apply_settings)
    autoplay    start training as soon as the stage opens

Reading a file validates the common keys here (a bad file names the file
and the field, and nothing changes); the lab validates its settings when the
stage is applied, before anything changes. No Qt here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

FORMAT_VERSION = 1
#: The 2-D lab's id (its lessons live in resources/scenarios/).
LOGISTIC2D = "logistic2d"
#: Chapter order of the navigator: the principles first, then one chapter per lab.
CHAPTERS: tuple[str, ...] = (
    "Start here",
    "Principles: surprise",
    "Principles: the gradient p − y",
    "Principles: the landscape",
    "Principles: nuances",
    "Applications: the 2-D classifier",
    "Applications: a tipping point",
    "Applications: many labels",
    "Applications: many classes",
    "Applications: segmentation",
    "Applications: counts with many zeros",
    "Applications: a GAN's judge",
    "Applications: a lending network",
    "Applications: your own model's outputs",
)
#: Keys every stage file may carry (the 2-D lab's files carry its scenario keys too).
STAGE_KEYS = frozenset({
    "format_version", "id", "lab", "chapter", "order", "title", "caption", "first", "layout",
    "row_stretch", "col_stretch", "controls", "hidden", "settings", "autoplay",
})
#: Keys of a scenario file that belong to the stage rather than to the 2-D lab's settings.
SCENARIO_STAGE_KEYS = frozenset({"lab", "chapter", "first", "layout", "row_stretch",
                                 "col_stretch", "controls", "hidden"})
WORKBENCH = "workbench"
MAX_PANELS = 9
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_PANEL_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class StageError(ValueError):
    """A stage file that cannot be read; the message names the file and the field."""


@dataclass(frozen=True)
class Stage:
    """One validated stage. ``layout`` is rows of panel ids, or ``()`` for the workbench."""

    stage_id: str
    lab: str
    title: str
    chapter: str = ""
    order: float = 1000.0
    caption: str = ""
    first: str = ""
    layout: tuple[tuple[str, ...], ...] = ()
    row_stretch: tuple[int, ...] = ()
    col_stretch: tuple[tuple[int, ...], ...] = ()
    controls: bool = False
    hidden: tuple[str, ...] = ()
    settings: dict = field(default_factory=dict, compare=False, hash=False)
    autoplay: bool = False
    source: str = ""

    @property
    def is_workbench(self) -> bool:
        return not self.layout

    @property
    def panel_ids(self) -> tuple[str, ...]:
        """Every panel the stage shows, row by row."""
        return tuple(pid for row in self.layout for pid in row)


# --------------------------------------------------------------------------- locating
def stages_dir() -> Path:
    from bceviz.resources import resources_dir

    return resources_dir() / "stages"


def scenarios_dir() -> Path:
    from bceviz.resources import resources_dir

    return resources_dir() / "scenarios"


def _files() -> list[tuple[Path, bool]]:
    """``[(path, is_scenario)]`` of every bundled stage file."""
    out: list[tuple[Path, bool]] = []
    for folder, is_scenario in ((scenarios_dir(), True), (stages_dir(), False)):
        if folder.is_dir():
            out.extend((p, is_scenario) for p in sorted(folder.glob("*.json")))
    return out


_cache: Optional[dict[str, Stage]] = None
#: Stages added at run time (:func:`register_stage`), kept across reloads.
_extra: dict[str, Stage] = {}


def register_stage(stage: Stage) -> Stage:
    """Add a stage that is not a bundled file (a lab added at run time; tests)."""
    if any(s.stage_id == stage.stage_id for s in all_stages()) and stage.stage_id not in _extra:
        raise StageError(f"stage id {stage.stage_id!r} is taken")
    _extra[stage.stage_id] = stage
    return stage


def unregister_stage(stage_id: str) -> None:
    _extra.pop(stage_id, None)


def all_stages(*, reload: bool = False) -> list[Stage]:
    """Every bundled stage in navigator order (chapter, then order, then id).

    A file that fails validation raises StageError: bundled files are part of
    the app, and the test suite reads them all.
    """
    global _cache
    if _cache is None or reload:
        stages: dict[str, Stage] = {}
        for path, is_scenario in _files():
            stage = load_stage_file(path, scenario=is_scenario)
            if stage.stage_id in stages:
                raise StageError(f"{path.name}: stage id {stage.stage_id!r} is used twice")
            stages[stage.stage_id] = stage
        _cache = stages
    return sorted([*_cache.values(), *_extra.values()], key=_sort_key)


def _sort_key(stage: Stage) -> tuple:
    chapter = CHAPTERS.index(stage.chapter) if stage.chapter in CHAPTERS else len(CHAPTERS)
    return (chapter, stage.chapter, stage.order, stage.stage_id)


def get_stage(stage_id: str) -> Stage:
    """The bundled stage ``stage_id``; StageError names the known ids otherwise."""
    if not isinstance(stage_id, str) or not _ID_RE.match(stage_id):
        raise StageError(f"invalid stage id {stage_id!r} (lower-case letters, digits, - and _)")
    for stage in all_stages():
        if stage.stage_id == stage_id:
            return stage
    known = ", ".join(s.stage_id for s in all_stages())
    raise StageError(f"unknown stage {stage_id!r} (known: {known})")


def stages_of_lab(lab: str) -> list[Stage]:
    return [s for s in all_stages() if s.lab == lab]


def chapters() -> list[tuple[str, list[Stage]]]:
    """``[(chapter, stages)]`` in navigator order."""
    out: dict[str, list[Stage]] = {}
    for stage in all_stages():
        out.setdefault(stage.chapter, []).append(stage)
    return list(out.items())


def neighbour(stage_id: str, step: int) -> Optional[Stage]:
    """The stage ``step`` places after (or before, step < 0) ``stage_id``, or None at an end."""
    ordered = all_stages()
    ids = [s.stage_id for s in ordered]
    if stage_id not in ids:
        return ordered[0] if ordered and step > 0 else None
    i = ids.index(stage_id) + step
    return ordered[i] if 0 <= i < len(ordered) else None


def workbench_of(lab: str) -> Optional[Stage]:
    """The lab's full-workbench stage (layout "workbench"), if it has one."""
    for stage in stages_of_lab(lab):
        if stage.is_workbench and not stage.autoplay:
            return stage
    return next((s for s in stages_of_lab(lab) if s.is_workbench), None)


# --------------------------------------------------------------------------- reading
def load_stage_file(path, *, scenario: bool = False) -> Stage:
    """Read and validate one stage file (``scenario``: a 2-D lab file in resources/scenarios/)."""
    path = Path(path)
    try:
        if not path.is_file():
            raise StageError(f"{path.name}: not a regular file")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StageError(f"{path.name}: cannot read: {exc}") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StageError(f"{path.name}: line {exc.lineno}, column {exc.colno}: invalid JSON "
                         f"({exc.msg})") from None
    stage = validate_stage(raw, source=path.name, scenario=scenario)
    if stage.stage_id != path.stem:
        raise StageError(f"{path.name}: id {stage.stage_id!r} does not match the file name")
    return stage


def validate_stage(raw: Any, source: str = "stage", *, scenario: bool = False) -> Stage:
    """Check the common keys of a stage; StageError names ``source`` and the field."""
    def fail(where: str, msg: str):
        raise StageError(f"{source}: {where}: {msg}" if where else f"{source}: {msg}")

    if not isinstance(raw, dict):
        fail("", "a stage must be a JSON object")
    if not scenario:
        unknown = sorted(set(raw) - STAGE_KEYS)
        if unknown:
            fail(unknown[0], f"unknown field (allowed: {', '.join(sorted(STAGE_KEYS))})")
    version = raw.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        fail("format_version", f"must be a positive whole number, got {version!r}")
    if version > FORMAT_VERSION:
        fail("format_version", f"{version} is newer than this bceviz reads ({FORMAT_VERSION})")
    sid = raw.get("id")
    if not isinstance(sid, str) or not _ID_RE.match(sid):
        fail("id", f"must be lower-case letters, digits, - and _, got {sid!r}")
    lab = raw.get("lab", LOGISTIC2D if scenario else None)
    if not isinstance(lab, str) or not lab:
        fail("lab", "must name the lab (e.g. \"tipping\")")
    if scenario and lab != LOGISTIC2D:
        fail("lab", f"a file in scenarios/ belongs to the 2-D lab ({LOGISTIC2D!r})")
    texts = {}
    for key, required, limit in (("title", True, 200), ("chapter", False, 200),
                                 ("caption", False, 2000), ("first", False, 600)):
        value = raw.get(key, "")
        if not isinstance(value, str) or (required and not value.strip()):
            fail(key, "must be text" + (" (not empty)" if required else ""))
        if len(value) > limit:
            fail(key, f"at most {limit} characters")
        texts[key] = value
    order = raw.get("order", 1000)
    if isinstance(order, bool) or not isinstance(order, (int, float)) or not -1e9 < order < 1e9:
        fail("order", f"must be a number, got {order!r}")
    layout, row_stretch, col_stretch = _layout(raw, scenario, fail)
    controls = raw.get("controls", False)
    if not isinstance(controls, bool):
        fail("controls", "must be true or false")
    hidden = raw.get("hidden", [])
    if not isinstance(hidden, list) or not all(isinstance(h, str) and h for h in hidden):
        fail("hidden", "must be a list of names")
    autoplay = raw.get("autoplay", False)
    if not isinstance(autoplay, bool):
        fail("autoplay", "must be true or false")
    if scenario:
        settings = {k: v for k, v in raw.items() if k not in SCENARIO_STAGE_KEYS}
    else:
        settings = raw.get("settings", {})
        if not isinstance(settings, dict):
            fail("settings", "must be an object")
    return Stage(stage_id=sid, lab=lab, title=texts["title"], chapter=texts["chapter"],
                 order=float(order), caption=texts["caption"], first=texts["first"],
                 layout=layout, row_stretch=row_stretch, col_stretch=col_stretch,
                 controls=controls, hidden=tuple(hidden), settings=dict(settings),
                 autoplay=autoplay, source=source)


def _layout(raw: dict, scenario: bool, fail: Any) -> tuple:
    layout = raw.get("layout")
    if layout is None and scenario:
        panels = raw.get("panels")
        if panels is None:
            layout = WORKBENCH
        elif isinstance(panels, list):
            ids = [p for p in panels if isinstance(p, str) and p != "controls"]
            layout = [ids[:2], ids[2:]] if len(ids) > 2 else [ids]
    if layout == WORKBENCH:
        if "row_stretch" in raw or "col_stretch" in raw:
            fail("layout", "a workbench has no stretches")
        return (), (), ()
    if not isinstance(layout, list) or not layout or len(layout) > 3:
        fail("layout", 'must be "workbench" or one to three rows of panel ids')
    assert isinstance(layout, list)  # fail() raised otherwise
    rows = []
    seen: set[str] = set()
    for r, row in enumerate(layout):
        if not isinstance(row, list) or not row or len(row) > 4:
            fail(f"layout[{r}]", "must be a list of one to four panel ids")
        for c, pid in enumerate(row):
            if not isinstance(pid, str) or not _PANEL_RE.match(pid):
                fail(f"layout[{r}][{c}]", f"not a panel id: {pid!r}")
            if pid in seen:
                fail(f"layout[{r}][{c}]", f"panel {pid!r} appears twice")
            seen.add(pid)
        rows.append(tuple(row))
    if len(seen) > MAX_PANELS:
        fail("layout", f"at most {MAX_PANELS} panels")
    row_stretch = raw.get("row_stretch", [1] * len(rows))
    if (not isinstance(row_stretch, list) or len(row_stretch) != len(rows)
            or not all(_stretch(v) for v in row_stretch)):
        fail("row_stretch", f"must be {len(rows)} whole numbers from 1 to 20")
    col_stretch = raw.get("col_stretch", [[1] * len(row) for row in rows])
    if not isinstance(col_stretch, list) or len(col_stretch) != len(rows):
        fail("col_stretch", f"must be {len(rows)} lists, one per row")
    for r, (row, cs) in enumerate(zip(rows, col_stretch)):
        if not isinstance(cs, list) or len(cs) != len(row) or not all(_stretch(v) for v in cs):
            fail(f"col_stretch[{r}]", f"must be {len(row)} whole numbers from 1 to 20")
    return (tuple(rows), tuple(int(v) for v in row_stretch),
            tuple(tuple(int(v) for v in cs) for cs in col_stretch))


def _stretch(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 20


__all__ = [
    "CHAPTERS", "FORMAT_VERSION", "LOGISTIC2D", "STAGE_KEYS", "Stage", "StageError", "WORKBENCH",
    "all_stages", "chapters", "get_stage", "load_stage_file", "neighbour", "register_stage",
    "stages_dir", "stages_of_lab", "unregister_stage", "validate_stage", "workbench_of",
]
