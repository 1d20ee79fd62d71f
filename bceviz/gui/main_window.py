"""The main window: one stage at a time, the lesson navigator, menus, status bar and the training loop.

The window hosts one lab at a time (``bceviz.model.labs``) and shows one of
its stages (``bceviz.model.stages``): the stage's two to four panels, large,
in the :class:`~bceviz.gui.stage_host.StageHost` at the window's centre. The
2-D lab's full workbench (stages ``workbench`` and ``large``) keeps its nine
panels in docks around an empty centre, as before. See
``docs/architecture.md``, "The window".

Reads from the current lab's state: ``running`` (the training timer),
status messages, and for the 2-D lab the scenario (title, caption) and
``view``. Writes: play/pause/step/reset, view options, stage choice. The
window never draws numbers itself beyond the status bar; the panels do.
"""

from __future__ import annotations

from typing import Callable, Optional

import shiboken6
from PySide6.QtCore import QEvent, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSizePolicy,
    QTabBar,
    QToolBar,
    QWidget,
)

import bceviz
from bceviz.gui import file_actions as _file_actions
from bceviz.gui import focus as _focus
from bceviz.gui import format as fmt
from bceviz.gui import keys as _keys
from bceviz.gui import safety as _safety
from bceviz.gui import theme as _theme
from bceviz.gui.panels import registry
from bceviz.gui.panels.base import Panel
from bceviz.gui.stage_host import LabView, StageHost
from bceviz.gui.timeline import TimelineBar
from bceviz.model import labs as _labs
from bceviz.model import scenarios as _scenarios
from bceviz.model import stages as _stages
from bceviz.model.labs.base import LabError
from bceviz.model.state import AppState, StateError

#: Training timer period (ms): about 60 frames per second.
FRAME_MS = 16
DEFAULT_SIZE = QSize(1280, 800)

KEYS_HELP = """<table cellspacing=4>
<tr><td><b>Space</b></td><td>play / pause training</td></tr>
<tr><td><b>S</b> or <b>→</b></td><td>one training step</td></tr>
<tr><td><b>R</b></td><td>reset the weights to zero</td></tr>
<tr><td><b>Drag</b> a point</td><td>move it (data panel)</td></tr>
<tr><td><b>Click</b> empty space</td><td>add a point of the selected class</td></tr>
<tr><td><b>Shift-click</b> a point</td><td>flip its label</td></tr>
<tr><td><b>Right-click</b> / <b>Delete</b></td><td>delete the point under the mouse</td></tr>
<tr><td><b>Ctrl+Q</b></td><td>quit</td></tr>
</table>"""


class CaptionBar(QLabel):
    """The scenario's title (bold) and its one- or two-sentence caption, above the panels.

    A word-wrapped label in a tool bar gets no height-for-width from Qt's
    layouts, so the bar reports the height its text needs at its current width.
    """

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("scenario_caption")
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setContentsMargins(6, 3, 6, 3)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.title = self.caption = self.first = ""
        self._wanted = 0

    def set_text(self, title: str, caption: str, first: str = "") -> None:
        """Title, caption and what to do first; all three are escaped (they may come from files)."""
        from bceviz.gui.safety import escape

        self.title, self.caption, self.first = title, caption, first
        text = f"<b>{escape(title)}</b>"
        if caption:
            text += f" — {escape(caption)}"
        if first:
            text += f"<br><i>First: {escape(first)}</i>"
        self.setText(text)
        self._refit()

    def _height_for(self, width: int) -> int:
        return self.heightForWidth(max(width, 300))

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        width = self.width() if self.width() > 300 else 1200
        return QSize(width, self._height_for(width))

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(300, self._height_for(self.width() if self.width() > 300 else 1200))

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._refit()

    def _refit(self) -> None:
        wanted = self._height_for(self.width() if self.width() > 300 else 1200)
        if wanted != self._wanted:
            self._wanted = wanted
            self.updateGeometry()


class MainWindow(QMainWindow):
    """All panels as docks around nothing: the docks are the window.

    ``panels`` maps panel id → panel widget, ``docks`` panel id → QDockWidget
    (objectName ``dock_<id>``, so ``saveState``/``restoreState`` work).
    """

    def __init__(self, state: AppState, parent: Optional[QWidget] = None, *,
                 lab_states: Optional[dict] = None) -> None:
        super().__init__(parent)
        _theme.manager()  # theme globals before any plot is made
        self.state = state
        self.setObjectName("bceviz_main_window")
        self.setWindowTitle("bceviz")
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks
                            | QMainWindow.DockOption.AllowTabbedDocks
                            | QMainWindow.DockOption.AllowNestedDocks)
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.TopLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)

        self.panels: dict[str, Panel] = {}
        self.docks: dict[str, QDockWidget] = {}
        self.caption_bar = CaptionBar(self)
        bar = QToolBar("Stage", self)
        bar.setObjectName("caption_toolbar")
        bar.setMovable(False)
        bar.setFloatable(False)
        self.caption_toolbar = bar
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)

        self._build_docks()
        self._watch_docks()
        self._arranging += 1
        self._default_layout()
        self._arranging -= 1
        # The 2-D lab's timeline under its panels (bceviz.gui.timeline).
        self.timeline = TimelineBar(state, self)
        tbar = QToolBar("Timeline", self)
        tbar.setObjectName("timeline_toolbar")
        tbar.setMovable(False)
        tbar.setFloatable(False)
        tbar.addWidget(self.timeline)
        self.timeline_toolbar = tbar
        self.addToolBar(Qt.ToolBarArea.BottomToolBarArea, tbar)
        # The stage host is the centre; in the 2-D workbench it is hidden and the docks fill
        # the window. Labs are built when one of their stages is first shown.
        self.stage_host = StageHost(self)
        self.setCentralWidget(self.stage_host)
        self.lab_states: dict[str, object] = {**(lab_states or {}), "logistic2d": state}
        self.lab_views: dict[str, LabView] = {}
        self.current_lab = "logistic2d"
        self.stage: Optional[_stages.Stage] = None
        #: The stage to go back to from a workbench (the navigator's Workbench toggle).
        self._lesson_before_workbench: Optional[str] = None
        self.mode = "docks"
        self.revealed = False
        self._applying_stage = False
        self._build_navigator(bar)
        bar.addWidget(self.caption_bar)
        self._build_menus()
        self._build_status_bar()
        # File/Edit menus (sessions, data, export, undo, copy as code), presentation
        # mode and window-wide shortcuts: bceviz.gui.file_actions.
        self.file_actions = _file_actions.install(self)
        # Space trains and Enter/Esc leave a field, whichever control has the focus.
        self.stage_keys = _focus.install(self, self.toggle_play)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

        self.train_timer = QTimer(self)
        self.train_timer.setInterval(FRAME_MS)
        self.train_timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.train_timer.timeout.connect(self._on_frame)
        self.frames = 0

        ev = state.events
        self._listeners = [
            (ev.status, self._lab_status("logistic2d")),
            (ev.running, self._lab_running("logistic2d")),
            (ev.scenario, self._on_scenario), (ev.view, self._on_view),
            (ev.weights, self._on_weights), (ev.spec, self._on_weights),
            (ev.data, self._on_weights), (ev.features, self._on_weights),
        ]
        for event, callback in self._listeners:
            event.connect(callback)
        _theme.manager().changed.connect(self._on_theme)

        self.resize(self.fitting_size())
        self._sized = False
        self._enter_docks()
        self._on_scenario()
        if state.status_message:
            self._on_status(state.status_message)
        self._on_view()
        self._on_running()
        self._update_readout()
        for panel in self.panels.values():
            panel.schedule()  # every panel draws itself once

    # ----------------------------------------------------------------- docks
    def _build_docks(self) -> None:
        areas = {
            "left": Qt.DockWidgetArea.LeftDockWidgetArea,
            "right": Qt.DockWidgetArea.RightDockWidgetArea,
            "top": Qt.DockWidgetArea.TopDockWidgetArea,
            "bottom": Qt.DockWidgetArea.BottomDockWidgetArea,
        }
        for entry, cls in registry.available_panels():
            panel = cls(self.state)
            title = getattr(cls, "title", "") or entry.title
            if title == Panel.title:
                title = entry.title
            dock = QDockWidget(title, self)
            dock.setObjectName(f"dock_{entry.panel_id}")
            dock.setWidget(panel)
            dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                             | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                             | QDockWidget.DockWidgetFeature.DockWidgetClosable)
            self.addDockWidget(areas.get(entry.area, Qt.DockWidgetArea.RightDockWidgetArea), dock)
            self.panels[entry.panel_id] = panel
            self.docks[entry.panel_id] = dock

    #: Where each panel goes relative to panels placed before it: the first
    #: existing anchor wins, so the layout degrades gracefully when a panel is
    #: missing. "tab" stacks it behind the anchor. Order matters: columns
    #: first, then rows inside each column.
    #:
    #: At 1280 × 800 every panel is on screen at once (nothing behind a tab):
    #: the metrics and imbalance panels switch to compact layouts when narrow.
    LAYOUT = (
        ("surface", (("data", "right"),)),
        ("metrics", (("surface", "right"), ("data", "right"))),
        ("loss_curve", (("data", "below"), ("surface", "below"))),
        ("formula", (("loss_curve", "below"), ("data", "below"))),
        ("training_curves", (("surface", "below"), ("loss_curve", "right"), ("data", "below"))),
        ("samples", (("training_curves", "below"), ("surface", "below"), ("loss_curve", "right"),
                     ("data", "below"))),
        ("imbalance", (("metrics", "below"), ("surface", "below"), ("data", "right"))),
    )
    #: Panels the layout does not name go behind the first of these that exists.
    FALLBACK_TABS = ("surface", "data", "loss_curve")
    #: Default sizes at 1280 × 800 (pixels; Qt scales them to fit).
    SIZES = (
        # (dock ids, sizes, orientation, skip the group when this dock exists)
        (("data", "surface", "metrics"), (345, 305, 345), "h", None),
        (("data", "surface"), (440, 560), "h", "metrics"),
        (("controls",), (270,), "h", None),
        (("data", "loss_curve", "formula"), (335, 230, 150), "v", None),
        (("data", "loss_curve"), (420, 230), "v", "formula"),
        (("surface", "training_curves", "samples"), (310, 165, 235), "v", None),
        (("surface", "training_curves"), (420, 230), "v", "samples"),
        (("metrics", "imbalance"), (455, 255), "v", None),
    )
    #: A window shorter than this (px) has no room for nine panels at once: the workbench
    #: tabs its smaller panels behind the larger ones (the "compact" arrangement) so every
    #: plot keeps a readable height. Presentation mode's larger type needs a screen of
    #: ``PRESENTING_FULL`` for every panel at once; on a smaller one it "stacks" the
    #: right-hand panels in one wide tab group, the metrics panel in front (its table
    #: beside its plots needs some 800 px in presentation type). The arrangement follows
    #: the window's size while it is the default one (until the user moves a dock or a
    #: session brings its own layout; View ▸ Reset layout makes it follow again).
    FULL_HEIGHT = 790
    PRESENTING_FULL = (1600, 960)
    #: Each arrangement's tabs: dock -> the dock it goes behind; then the docks in front.
    TABS = {
        "full": ({}, ()),
        "compact": ({"formula": "loss_curve", "samples": "training_curves",
                     "imbalance": "metrics"}, ("loss_curve", "training_curves", "metrics")),
        "stacked": ({"formula": "loss_curve", "metrics": "surface", "training_curves": "surface",
                     "samples": "surface", "imbalance": "surface", "race": "loss_curve"},
                    ("loss_curve", "metrics")),
    }
    #: Sizes of the compact and stacked arrangements at 1280 × 720 (pixels; Qt scales them).
    ARRANGED_SIZES = {
        "compact": (
            (("data", "surface", "metrics"), (340, 320, 350), "h", None),
            (("controls",), (255,), "h", None),
            (("data", "loss_curve"), (285, 265), "v", None),
            (("surface", "training_curves"), (280, 270), "v", None),
        ),
        "stacked": (
            (("data", "surface"), (470, 810), "h", None),
            (("data", "loss_curve"), (225, 335), "v", None),
        ),
    }
    #: A window at least this wide (px, a maximised 1920 × 1080 one) keeps the controls at
    #: ``WIDE_CONTROLS`` px and shares the rest among the columns (else Qt gives the
    #: controls all the width the window gained).
    WIDE = 1600
    WIDE_CONTROLS = 300
    WIDE_SHARES = {"data": 0.28, "surface": 0.25, "metrics": 0.47}
    #: In presentation on a screen at least ``PRESENTING_FULL`` large, the share of the
    #: width of each column: the metrics panel needs half for its side-by-side layout (its
    #: table beside four plots of 300 × 180 px and more at 1920 × 1080).
    PRESENTING_SHARES = {"data": 0.24, "surface": 0.21, "metrics": 0.55}
    #: ... and the shares of the columns' heights (the loss curve's readouts and the
    #: training curves' chooser take more of a dock in presentation type).
    PRESENTING_HEIGHTS = ((("data", "loss_curve", "formula"), (0.40, 0.38, 0.22)),
                          (("surface", "training_curves", "samples"), (0.34, 0.32, 0.34)))

    def _default_layout(self) -> None:
        """Controls on the left; data, surface and metrics large; the smaller panels below them.

        ::

            controls | data        | surface         | metrics
                     |             |                 |
                     |-------------|-----------------|
                     | loss curve  | training curves |-----------
                     |-------------|-----------------| imbalance
                     | formula     | samples         |
        """
        d = self.docks
        presenting = self._presenting()
        for pid, dock in d.items():
            dock.setFloating(False)
            if not (presenting and pid == "controls"):  # presentation hides the controls
                dock.show()
        if "controls" in d:
            self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, d["controls"])
        first = next((pid for pid in ("data", "surface", "loss_curve", "samples",
                                      "training_curves", "metrics", "formula") if pid in d), None)
        if first is None:
            return
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, d[first])
        placed = {first}
        directions = {"right": Qt.Orientation.Horizontal, "below": Qt.Orientation.Vertical}
        tabbed = []
        self.arrangement = self._wanted_arrangement()
        behind, fronts = self.TABS[self.arrangement]
        for pid, anchors in self.LAYOUT:
            if pid not in d or pid in placed:
                continue
            if pid in behind:  # a compact or stacked arrangement: behind its front dock
                anchors = ((behind[pid], "tab"), *anchors)
            for anchor, where in anchors:
                if anchor in placed:
                    if where == "tab":
                        self.tabifyDockWidget(d[anchor], d[pid])
                        tabbed.append((pid, anchor))
                    else:
                        self.splitDockWidget(d[anchor], d[pid], directions[where])
                    break
            else:
                self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, d[pid])
            placed.add(pid)
        named = {pid for pid, _ in self.LAYOUT} | {"controls", first}
        for pid in d:
            if pid in named or pid in placed:
                continue
            anchor = behind.get(pid) if behind.get(pid) in placed else \
                next((a for a in self.FALLBACK_TABS if a in placed), None)
            if anchor is None:
                self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, d[pid])
            else:
                self.tabifyDockWidget(d[anchor], d[pid])
                tabbed.append((pid, anchor))
            placed.add(pid)
        roots: dict[str, str] = {}
        for pid, anchor in tabbed:
            roots[pid] = roots.get(anchor, anchor)
        for root in dict.fromkeys(roots.values()):
            d[root].raise_()  # each tab group shows its first panel
        for pid in fronts:
            if pid in d:
                d[pid].raise_()
        self._tidy_tab_bars()
        self._size_docks()
        self._fitted_for = (self.arrangement, self._presenting(), self.width() >= self.WIDE)

    def _tidy_tab_bars(self) -> None:
        """Drop the tab bars Qt leaves behind when docks are re-tabbed.

        ``tabifyDockWidget`` and ``splitDockWidget`` can leave a tab group's old tab
        bar shown where the group was (drawn over the docks); Qt retires unused tab
        bars only when it applies a whole layout state, as ``restoreState`` does on a
        shown window. Called on a shown window only (the first show calls it again).
        """
        if not self.isVisible():
            return
        bars = self.findChildren(QTabBar, options=Qt.FindChildOption.FindDirectChildrenOnly)
        old = [bar for bar in bars if bar.count() > 0]
        self._arranging += 1
        try:
            QMainWindow.restoreState(self, QMainWindow.saveState(self))
        finally:
            self._arranging -= 1
        # The restored layout draws its tab groups with fresh (or emptied, retired) tab
        # bars; a tab bar that held tabs before is left over, whether Qt retired it or not.
        for bar in old:
            if shiboken6.isValid(bar):
                bar.hide()

    # ------------------------------------------------- arrangement for the size
    def _wanted_arrangement(self) -> str:
        """``"full"`` (every panel at once), ``"compact"`` (small panels tabbed) or, in
        presentation, ``"stacked"`` for the window's size; before the window is shown, for
        the size it will open at."""
        size = self.size() if self.isVisible() else self.fitting_size()
        if self._presenting():
            wide, tall = self.PRESENTING_FULL
            return "full" if size.width() >= wide and size.height() >= tall else "stacked"
        return "compact" if size.height() < self.FULL_HEIGHT else "full"

    def _watch_docks(self) -> None:
        """A dock the user moves, floats or re-tabs makes the layout the user's own."""
        self.layout_custom = False
        self._arranging = 0
        self._fitted_for: tuple = ()
        self.arrangement = "full"
        for dock in self.docks.values():
            dock.dockLocationChanged.connect(self._on_dock_moved)
            dock.topLevelChanged.connect(self._on_dock_moved)

    def _on_dock_moved(self, *_) -> None:
        if not getattr(self, "_arranging", 0) and self.isVisible():
            self.layout_custom = True

    def _layout_key(self) -> tuple:
        """What the default dock layout depends on: the arrangement for the window's height,
        presentation mode, and (presenting) a screen wide enough for the wide metrics."""
        presenting = self._presenting()
        return (self._wanted_arrangement(), presenting, self.width() >= self.WIDE)

    def dock_layout(self) -> dict:
        """The workbench's dock layout as it is now (presentation mode puts it back)."""
        return {"state": QMainWindow.saveState(self), "arrangement": self.arrangement,
                "custom": self.layout_custom, "key": self._fitted_for}

    def restore_dock_layout(self, saved: dict) -> None:
        """Put back a layout from :meth:`dock_layout` exactly (docks, tabs and sizes)."""
        self._arranging += 1
        try:
            QMainWindow.restoreState(self, saved["state"])
        finally:
            self._arranging -= 1
        self.arrangement = saved["arrangement"]
        self.layout_custom = saved["custom"]
        self._fitted_for = saved["key"]
        self._tidy_tab_bars()

    def _follow_size(self) -> None:
        """Re-arrange the workbench's docks when the window's height asks for the other
        arrangement, or presentation mode for other sizes (the default layout only;
        deferred out of resize events)."""
        if not shiboken6.isValid(self) or self.mode != "docks" or self.layout_custom:
            return
        key = self._layout_key()
        if key == self._fitted_for:
            return
        if key[0] == self.arrangement:  # the same docks, other sizes
            self._size_docks()
            self._fitted_for = key
        else:
            self._arranging += 1
            try:
                self._default_layout()
                self._apply_panel_visibility(getattr(self.state, "scenario_panels", None))
                if self._presenting() and "controls" in self.docks:
                    self.docks["controls"].hide()  # presentation mode hides the controls
            finally:
                self._arranging -= 1
            screen = self.screen()
            if screen is not None:
                # Docks moved one by one can widen the window's minimum on the way, and
                # the arrangement left may have held the window taller than asked: once
                # the layouts have run, a full screen is the screen again and a window
                # no larger than the screen's free area.
                QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
                self.layout().activate()
                if self._presenting():
                    size = screen.geometry().size()
                elif self.arrangement == "compact":
                    size = self.size().boundedTo(screen.availableGeometry().size())
                else:
                    size = self.size()
                if self.size() != size:
                    self.resize(size)  # (its resize event checks the arrangement again)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        if getattr(self, "_arranging", None) is not None and not self.layout_custom:
            QTimer.singleShot(0, self._follow_size)

    def restoreState(self, state, version: int = 0) -> bool:  # noqa: N802 (Qt name)
        """Qt's restoreState; a restored layout is the user's own (it no longer follows the
        window's height)."""
        self._arranging += 1
        try:
            ok = super().restoreState(state, version)
        finally:
            self._arranging -= 1
        if ok:
            self.layout_custom = True
        return ok

    def _size_docks(self) -> None:
        d = self.docks
        arrangement = getattr(self, "arrangement", "full")
        for ids, sizes, orient, unless in self.ARRANGED_SIZES.get(arrangement, self.SIZES):
            # Only when every dock of a group exists and shows: a lone dock's size
            # would resize its whole column or row instead.
            if not all(i in d and not d[i].isHidden() for i in ids):
                continue
            if unless in d and not d[unless].isHidden():
                continue
            self.resizeDocks([d[i] for i in ids], list(sizes),
                             Qt.Orientation.Horizontal if orient == "h" else Qt.Orientation.Vertical)
        width = self.width()
        if not self._presenting() and width >= self.WIDE:
            cols = [i for i in self.WIDE_SHARES if i in d and not d[i].isHidden()]
            rest = width - (self.WIDE_CONTROLS if "controls" in d
                            and not d["controls"].isHidden() else 0)
            total = sum(self.WIDE_SHARES[i] for i in cols) or 1.0
            docks = [d[i] for i in cols]
            sizes = [int(rest * self.WIDE_SHARES[i] / total) for i in cols]
            if "controls" in d and not d["controls"].isHidden():
                docks.insert(0, d["controls"])
                sizes.insert(0, self.WIDE_CONTROLS)
            if len(docks) > 1:
                self.resizeDocks(docks, sizes, Qt.Orientation.Horizontal)
        if self._presenting() and arrangement == "full" and "metrics" in d:
            # the metrics panel's side-by-side layout: its table beside four plots
            cols = [i for i in self.PRESENTING_SHARES if i in d and not d[i].isHidden()]
            if "metrics" in cols and len(cols) > 1:
                total = sum(self.PRESENTING_SHARES[i] for i in cols)
                self.resizeDocks([d[i] for i in cols],
                                 [int(width * self.PRESENTING_SHARES[i] / total) for i in cols],
                                 Qt.Orientation.Horizontal)
            height = self.height()
            for ids, shares in self.PRESENTING_HEIGHTS:
                if all(i in d and not d[i].isHidden() for i in ids):
                    self.resizeDocks([d[i] for i in ids], [int(height * f) for f in shares],
                                     Qt.Orientation.Vertical)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        if not self._sized:
            # resizeDocks only takes once the window has a laid-out geometry
            self._sized = True
            QTimer.singleShot(0, self._tidy_tab_bars)
            QTimer.singleShot(0, self._size_docks)

    def reset_layout(self) -> None:
        """Put every panel back where the stage starts (View → Reset layout)."""
        if self.mode == "stage" and self.stage is not None:
            self._enter_stage(self.stage)
            return
        self.layout_custom = False
        self._arranging += 1
        try:
            self._default_layout()
        finally:
            self._arranging -= 1
        self._apply_panel_visibility(getattr(self.state, "scenario_panels", None))

    def apply_panel_visibility(self, panel_ids) -> None:
        """Workbench docks: show the named panels (None: all), hide the others."""
        self._apply_panel_visibility(panel_ids)

    def _apply_panel_visibility(self, panel_ids) -> None:
        if self.mode != "docks":
            return
        wanted = set(panel_ids) if panel_ids else set(self.docks)
        for pid, dock in self.docks.items():
            dock.setVisible(pid in wanted)

    # ------------------------------------------------------------ stages
    def fitting_size(self) -> QSize:
        """The default size, shrunk to the screen the window opens on (1280 × 720 and up)."""
        screen = self.screen()
        if screen is None:
            return DEFAULT_SIZE
        avail = screen.availableGeometry().size()
        # the frame too must fit (the platform window knows it before the widget does)
        frame = self.frameGeometry().size() - self.geometry().size()
        fw, fh = max(frame.width(), 0), max(frame.height(), 0)
        handle = self.windowHandle()
        if handle is not None:
            m = handle.frameMargins()
            fw, fh = max(fw, m.left() + m.right()), max(fh, m.top() + m.bottom())
        return QSize(min(DEFAULT_SIZE.width(), avail.width() - fw),
                     min(DEFAULT_SIZE.height(), avail.height() - fh))

    def _build_navigator(self, bar: QToolBar) -> None:
        """◀ stage chooser ▶ and the workbench toggle, left of the caption."""
        self.act_prev = self._action(bar, "◀", lambda: self.next_stage(-1), ["PgUp"],
                                     tip="Previous stage (Page Up)")
        self.stage_combo = QComboBox(self)
        self.stage_combo.setObjectName("stage_chooser")
        self.stage_combo.setToolTip("Choose a stage: one idea, its panels large")
        self.stage_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.stage_combo.setMaximumWidth(260)
        for chapter, stages in _stages.chapters():
            self.stage_combo.addItem(chapter)
            index = self.stage_combo.count() - 1
            item = self.stage_combo.model().item(index)
            item.setEnabled(False)
            font = item.font()
            font.setBold(True)
            item.setFont(font)
            for stage in stages:
                self.stage_combo.addItem("   " + stage.title, stage.stage_id)
        self.stage_combo.activated.connect(self._on_combo)
        self.act_stage_combo = bar.addWidget(self.stage_combo)
        self.act_next = self._action(bar, "▶", lambda: self.next_stage(1), ["PgDown"],
                                     tip="Next stage (Page Down)")
        self.act_workbench = self._action(
            bar, "Workbench", self.toggle_workbench, ["Ctrl+B"],
            tip="Every panel of this lab at once, and back to the lesson (Ctrl+B)",
            checkable=True)
        self.act_reveal = self._action(bar, "Reveal", self.reveal, ["Ctrl+R"],
                                       tip="Show the numbers this stage hides (Ctrl+R)")
        self.act_reveal.setVisible(False)
        self.act_fresh = self._action(bar, "Start fresh", self.start_fresh,
                                      tip="Forget the restored session: open this stage as it "
                                          "starts")
        self.act_fresh.setVisible(False)
        self._restored = False
        for act in (self.act_prev, self.act_next, self.act_workbench, self.act_reveal):
            self.addAction(act)  # shortcuts work with the tool bar hidden (presentation)

    @property
    def lab_state(self):
        """The current lab's state (the 2-D lab's is also ``self.state``)."""
        return self.lab_states[self.current_lab]

    def lab_view(self, lab_id: str) -> LabView:
        """The lab's view, building its state and panels on first use."""
        view = self.lab_views.get(lab_id)
        if view is not None:
            return view
        info = _labs.get_lab(lab_id)
        if lab_id == "logistic2d":
            panels = {pid: p for pid, p in self.panels.items() if pid != "controls"}
            titles = {pid: self.docks[pid].windowTitle() for pid in panels}
            view = LabView(info, self.state, panels, self.panels.get("controls"), titles)
        else:
            state = self.lab_states.get(lab_id)
            if state is None:
                state = info.state_factory()
                self.lab_states[lab_id] = state
            self._listen_to_lab(lab_id, state)
            view = LabView.build(info, state)
            for widget in view.all_widgets():
                widget.hide()
                widget.setParent(self.stage_host.parking)
                if getattr(self, "stage_keys", None) is not None:
                    self.stage_keys.watch(widget)
        self.lab_views[lab_id] = view
        return view

    def _listen_to_lab(self, lab_id: str, state) -> None:
        pairs = [(state.events.status, self._lab_status(lab_id)),
                 (state.events.running, self._lab_running(lab_id))]
        for event, callback in pairs:
            event.connect(callback)
        self._listeners.extend(pairs)

    def _lab_status(self, lab_id: str):
        def on_status(message: str = "", level: str = "info", **_) -> None:
            if lab_id == self.current_lab:
                self._on_status(message, level)
        return on_status

    def _lab_running(self, lab_id: str):
        def on_running(**_) -> None:
            if lab_id == self.current_lab:
                self._on_running()
        return on_running

    def show_stage(self, stage_id: str) -> None:
        """Open a stage: apply its settings to its lab (all or nothing), then arrange its panels.

        A refused stage (bad settings, unknown panel) leaves everything as it
        was and says why in the status bar.
        """
        stage = _stages.get_stage(stage_id)
        if self._restored:
            self._restored = False
            self.act_fresh.setVisible(False)
        view = self.lab_view(stage.lab)
        state = view.state
        missing = [pid for pid in stage.panel_ids if pid not in view.panels]
        if missing:
            raise StateError(f"stage {stage.stage_id!r} names panel {missing[0]!r}, which the "
                             f"lab has not")
        for other in self.lab_states.values():
            if other.running:
                other.set_running(False)
        self._applying_stage = True
        try:
            state.apply_settings(dict(stage.settings))
        except LabError as exc:
            raise StateError(str(exc)) from None
        finally:
            self._applying_stage = False
        state.set_stage_id(stage.stage_id)
        self._arrange(stage)
        if stage.autoplay and state.can_train():
            state.set_running(True)

    def present(self, stage_id: str) -> None:
        """Show a stage's layout over its lab's state as it is (no settings applied).

        For a state that was prepared elsewhere: the CLI after training, a
        session just restored. An unknown stage shows the 2-D workbench.
        """
        try:
            stage = _stages.get_stage(stage_id)
        except _stages.StageError:
            stage = _stages.get_stage("workbench")
        lab_id = stage.lab
        if lab_id not in self.lab_states:
            lab_id = "logistic2d"
            stage = _stages.get_stage("workbench")
        self.lab_view(lab_id)
        self.lab_states[lab_id].set_stage_id(stage.stage_id)
        self._arrange(stage)

    def _arrange(self, stage: "_stages.Stage") -> None:
        """Show ``stage``: the 2-D workbench in docks, anything else in the stage host."""
        self.stage = stage
        self.current_lab = stage.lab
        self.revealed = not stage.hidden
        if stage.lab == "logistic2d" and stage.is_workbench:
            self._enter_docks()
        else:
            self._enter_stage(stage)
        self._sync_navigator()
        self._update_caption()
        self._sync_timeline()
        self._on_running()
        state = self.lab_state
        if stage.lab != "logistic2d":  # the status bar speaks for the lab on screen
            self._on_status(state.status_message or f"Stage: {stage.title}",
                            getattr(state, "status_level", "info"))

    def _enter_docks(self) -> None:
        """The 2-D workbench: every panel back in its dock, the centre hidden."""
        self.stage_host.clear()
        for pid, panel in self.panels.items():
            dock = self.docks[pid]
            if dock.widget() is not panel:
                dock.setWidget(panel)
            panel.show()
        self.stage_host.hide()
        self.mode = "docks"
        self._apply_panel_visibility(None)
        QTimer.singleShot(0, self._follow_size)  # the window may have changed size meanwhile

    def _enter_stage(self, stage: "_stages.Stage") -> None:
        for dock in self.docks.values():
            dock.hide()
        view = self.lab_view(stage.lab)
        self.stage_host.show_stage(view, stage)
        self.stage_host.show()
        self.mode = "stage"
        for widget in self.stage_host.visible_panels().values():
            schedule = getattr(widget, "schedule", None)
            if schedule is not None:
                schedule()

    def _presenting(self) -> bool:
        fa = getattr(self, "file_actions", None)
        return bool(fa is not None and fa.presentation.active)

    def next_stage(self, step: int) -> None:
        """Page Down / Page Up: the next or previous stage in the navigator's order."""
        current = self.stage.stage_id if self.stage is not None else ""
        target = _stages.neighbour(current, step)
        if target is None:
            self.lab_state.set_status("This is the " + ("last" if step > 0 else "first")
                                      + " stage", "info")
            return
        self.show_stage(target.stage_id)

    def toggle_workbench(self, on: Optional[bool] = None) -> None:
        """From a lesson to its lab's full workbench, and back to the lesson."""
        stage = self.stage
        if stage is None:
            return
        if not stage.is_workbench:
            bench = _stages.workbench_of(stage.lab)
            self._lesson_before_workbench = stage.stage_id
            if bench is not None:
                if stage.lab == "logistic2d":  # keep the lesson's data and model on the bench
                    self.stage = bench
                    self.current_lab = bench.lab
                    self._enter_docks()
                    self._sync_navigator()
                    self._update_caption()
                else:
                    self._arrange(_stages.Stage(
                        stage_id=stage.stage_id, lab=stage.lab, title=stage.title,
                        chapter=stage.chapter, caption=stage.caption, first=stage.first))
                    self.act_workbench.setChecked(True)
                return
            self._arrange(_stages.Stage(stage_id=stage.stage_id, lab=stage.lab,
                                        title=stage.title, chapter=stage.chapter,
                                        caption=stage.caption, first=stage.first))
            self.act_workbench.setChecked(True)
            return
        back = self._lesson_before_workbench
        self._lesson_before_workbench = None
        if back is not None:
            self._arrange(_stages.get_stage(back))  # the layout only: the model stays as it is
        else:
            self._sync_navigator()

    def reveal(self) -> None:
        """Show what the stage hides (a practice problem's answer)."""
        if self.revealed:
            return
        self.revealed = True
        for panel in list(self.panels.values()) + [
                w for v in self.lab_views.values() for w in v.all_widgets()]:
            on_reveal = getattr(panel, "set_revealed", None)
            if on_reveal is not None:
                on_reveal(True)
        self._sync_navigator()
        self.lab_state.set_status("Revealed", "info")

    def hidden_names(self) -> tuple[str, ...]:
        """What the current stage hides until Reveal (empty once revealed)."""
        if self.stage is None or self.revealed:
            return ()
        return self.stage.hidden

    def _on_combo(self, index: int) -> None:
        stage_id = self.stage_combo.itemData(index)
        if stage_id:
            self.guard(self.show_stage, stage_id)

    def _sync_navigator(self) -> None:
        stage = self.stage
        sid = stage.stage_id if stage is not None else ""
        index = self.stage_combo.findData(sid)
        self.stage_combo.blockSignals(True)
        if index >= 0:
            self.stage_combo.setCurrentIndex(index)
        self.stage_combo.blockSignals(False)
        on_bench = stage is not None and (stage.is_workbench or self.mode == "docks")
        self.act_workbench.blockSignals(True)
        self.act_workbench.setChecked(bool(on_bench and self._lesson_before_workbench))
        self.act_workbench.blockSignals(False)
        self.act_prev.setEnabled(_stages.neighbour(sid, -1) is not None)
        self.act_next.setEnabled(_stages.neighbour(sid, 1) is not None)
        self.act_reveal.setVisible(bool(self.hidden_names()))
        for other, act in getattr(self, "scenario_actions", {}).items():
            act.setChecked(other == sid)
        for panel in self.panels.values():
            on_reveal = getattr(panel, "set_revealed", None)
            if on_reveal is not None:
                on_reveal(not self.hidden_names() if self.current_lab == "logistic2d" else True)

    def note_restored_session(self) -> None:
        """Say where people look that yesterday's session came back, with a way to start fresh."""
        self._restored = True
        self.act_fresh.setVisible(True)
        self._update_caption()

    def start_fresh(self) -> None:
        """Leave the restored session: open the current stage as it starts."""
        self._restored = False
        self.act_fresh.setVisible(False)
        target = self.stage.stage_id if self.stage is not None else "default"
        self.show_stage(target)

    def _update_caption(self) -> None:
        stage = self.stage
        if self.current_lab == "logistic2d":
            st = self.state
            title = st.scenario_title or (stage.title if stage else "bceviz")
            caption = st.caption
            first = stage.first if stage is not None and stage.stage_id == st.scenario_id else ""
        else:
            title = stage.title if stage else ""
            caption = stage.caption if stage else ""
            first = stage.first if stage else ""
        if getattr(self, "_restored", False):
            first = "Restored from your last session — press Start fresh for the stage's own start."
        self.caption_bar.set_text(title, caption, first)
        self.setWindowTitle(f"bceviz — {_safety.shown(title)}" if title else "bceviz")

    # ----------------------------------------------------------------- menus
    def _action(self, menu, text: str, slot: Callable, shortcuts=(), tip: str = "",
                checkable: bool = False) -> QAction:
        action = QAction(text, self)
        if shortcuts:
            action.setShortcuts([QKeySequence(s) for s in shortcuts])
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        action.setCheckable(checkable)
        if checkable:
            action.toggled.connect(lambda on: self.guard(slot, on))
        else:
            action.triggered.connect(lambda: self.guard(slot))
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        mb = self.menuBar()
        file_menu = mb.addMenu("&File")
        self.file_menu = file_menu
        self._action(file_menu, "&Quit", self.close, ["Ctrl+Q"],
                     "Close bceviz")

        stage_menu = mb.addMenu("&Stages")
        self.stage_menu = stage_menu
        self.scenario_actions: dict[str, QAction] = {}
        group = QActionGroup(self)
        for chapter, stages in _stages.chapters():
            sub = stage_menu.addMenu(chapter)
            for stage in stages:
                sid = stage.stage_id
                act = self._action(sub, stage.title, lambda sid=sid: self.show_stage(sid),
                                   tip=f"Open the stage '{sid}'")
                act.setCheckable(True)
                group.addAction(act)
                self.scenario_actions[sid] = act
        stage_menu.addSeparator()
        stage_menu.addAction(self.act_prev)
        stage_menu.addAction(self.act_next)
        stage_menu.addAction(self.act_workbench)
        stage_menu.addAction(self.act_reveal)

        view_menu = mb.addMenu("&View")
        self.view_menu = view_menu
        for dock in self.docks.values():
            act = dock.toggleViewAction()
            act.setText(f"{dock.windowTitle()} panel")
            act.setStatusTip(f"Show or hide the {dock.windowTitle()} panel")
            view_menu.addAction(act)
        view_menu.addSeparator()
        units = QActionGroup(self)
        self.act_nats = self._action(view_menu, "Loss in &nats", lambda on: on and self.state.set_view(units="nats"),
                                     tip="Show losses in nats (natural log)", checkable=True)
        self.act_bits = self._action(view_menu, "Loss in &bits", lambda on: on and self.state.set_view(units="bits"),
                                     tip="Show losses in bits (log base 2)", checkable=True)
        units.addAction(self.act_nats)
        units.addAction(self.act_bits)
        view_menu.addSeparator()
        axis = QActionGroup(self)
        self.act_axis_p = self._action(view_menu, "Loss curve against &p",
                                       lambda on: on and self.state.set_view(curve_axis="p"),
                                       tip="Loss curve over the predicted probability p", checkable=True)
        self.act_axis_z = self._action(view_menu, "Loss curve against the logit &z",
                                       lambda on: on and self.state.set_view(curve_axis="z"),
                                       tip="Loss curve over the logit z", checkable=True)
        axis.addAction(self.act_axis_p)
        axis.addAction(self.act_axis_z)
        view_menu.addSeparator()
        self.act_dark = self._action(view_menu, "&Dark theme", _theme.manager().set_dark,
                                     tip="Switch between light and dark colours", checkable=True)
        self.act_presentation = self._action(
            view_menu, "&Presentation mode", _theme.manager().set_presentation, ["F11"],
            tip="Larger fonts, lines and markers for a projector", checkable=True)
        self._action(view_menu, "Reset &layout", self.reset_layout,
                     tip="Put every panel back where it starts")

        train_menu = mb.addMenu("&Training")
        self.act_play = self._action(train_menu, "&Play", self.toggle_play, ["Space"],
                                     tip="Start or pause training (Space)")
        self.act_step = self._action(train_menu, "&Step", self.step_once, ["S"],
                                     tip="Take one training step (S; → too unless the "
                                         "timeline is scrubbed)")
        self.act_forward = self._action(
            train_menu, "Timeline: &forward / step", self.timeline_forward, ["Right"],
            tip="One record forward on a scrubbed timeline, else one training step (→)")
        self.act_back = self._action(train_menu, "Timeline: &back", self.timeline_back,
                                     ["Left"], tip="One recorded step back while paused (←)")
        self.act_first = self._action(train_menu, "Timeline: f&irst step",
                                      lambda: self._scrub_key("home"), ["Home"],
                                      tip="The first recorded step while paused (Home)")
        self.act_present = self._action(train_menu, "Timeline: &now",
                                        lambda: self._scrub_key("end"), ["End"],
                                        tip="Back to the present (End)")
        self.act_reset = self._action(train_menu, "&Reset weights", self.reset_weights, ["R"],
                                      tip="Put the weights back to zero and clear the history (R)")
        # Shortcuts must work while the menu bar is hidden or docks have focus.
        for act in (self.act_play, self.act_step, self.act_reset, self.act_forward,
                    self.act_back, self.act_first, self.act_present):
            self.addAction(act)

        help_menu = mb.addMenu("&Help")
        self._action(help_menu, "&Keys", self.show_keys, ["F1"], tip="Keyboard and mouse keys")
        self._action(help_menu, "&About bceviz", self.show_about, tip="Version and purpose")

    def _build_status_bar(self) -> None:
        sb = self.statusBar()
        self.status_label = QLabel(self)
        self.status_label.setObjectName("status_message")
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)
        self.readout_label = QLabel(self)
        self.readout_label.setObjectName("status_readout")
        sb.addWidget(self.status_label, 1)
        sb.addPermanentWidget(self.readout_label)
        self._status_clear = QTimer(self)
        self._status_clear.setSingleShot(True)
        self._status_clear.timeout.connect(lambda: self.status_label.setText(""))
        self._readout_timer = QTimer(self)
        self._readout_timer.setSingleShot(True)
        self._readout_timer.timeout.connect(self._update_readout)

    # --------------------------------------------------------------- actions
    def guard(self, fn: Callable, *args, **kwargs) -> None:
        """Run a user action; a refused change goes to the status bar, not a traceback."""
        try:
            fn(*args, **kwargs)
        except (StateError, LabError, _scenarios.ScenarioError, _stages.StageError) as exc:
            self.lab_state.set_status(str(exc), "error")

    def toggle_play(self) -> None:
        state = self.lab_state
        state.set_running(not state.running)
        if not state.running and not state.can_train():
            state.set_status("Nothing to train here: " + (
                state.status_message or "add examples first"), "warning")

    def step_once(self) -> None:
        state = self.lab_state
        if state.running:
            state.set_running(False)
        state.step(1)

    def reset_weights(self) -> None:
        self.lab_state.reset()

    # -------------------------------------------------------------- timeline
    def timeline_shown(self) -> bool:
        """The 2-D lab's timeline is on screen: its workbench, or a stage of it that shows
        training unfold (the loss surface, the training curves or the race)."""
        if self.current_lab != "logistic2d":
            return False
        stage = self.stage
        if self.mode == "docks" or stage is None or stage.is_workbench:
            return True
        return bool({"surface", "training_curves", "race"} & set(stage.panel_ids))

    def _sync_timeline(self) -> None:
        self.timeline_toolbar.setVisible(self.timeline_shown())

    def _scrubbing(self) -> bool:
        return self.timeline_shown() and not self.state.running

    def timeline_forward(self) -> None:
        """→: one record forward while the paused timeline is scrubbed or focused, else a step."""
        if self._scrubbing() and (self.state.scrub_index is not None
                                  or self.timeline.slider.hasFocus()):
            self.timeline.step_by(1)
        else:
            self.step_once()

    def timeline_back(self) -> None:
        """←: one record back while paused (the view only; nothing changes)."""
        if self._scrubbing():
            self.timeline.step_by(-1)

    def _scrub_key(self, which: str) -> None:
        if not self._scrubbing():
            return
        if which == "home":
            self.timeline.home()
        else:
            self.timeline.end()

    def load_scenario(self, scenario_id: str) -> None:
        """Open a stage (the 2-D lab's lessons are stages too); errors go to the status bar."""
        try:
            self.show_stage(scenario_id)
        except (StateError, LabError, _scenarios.ScenarioError, _stages.StageError) as exc:
            self.lab_state.set_status(str(exc), "error")

    def show_keys(self) -> None:
        """Help ▸ Keys: every shortcut of the window's actions and the mouse gestures."""
        _keys.show_keys(self)

    def show_about(self) -> None:
        QMessageBox.about(
            self, "About bceviz",
            f"<b>bceviz {bceviz.__version__}</b><p>Binary cross-entropy you can touch: drag "
            "predictions, labels and data points and watch the loss, its gradient and a live "
            "logistic regression answer.</p>")

    # ---------------------------------------------------------------- events
    def _on_frame(self) -> None:
        state = self.lab_state
        if not state.running:
            self.train_timer.stop()
            return
        try:
            if state is self.state:
                state.step()
            else:
                state.step(max(1, int(state.steps_per_frame)))
        except (StateError, LabError) as exc:
            state.set_running(False)
            state.set_status(str(exc), "error")
        self.frames += 1

    def _on_running(self, **_) -> None:
        if not shiboken6.isValid(self):
            return
        running = self.lab_state.running
        self.act_play.setText("&Pause" if running else "&Play")
        if running and not self.train_timer.isActive():
            self.train_timer.start()
        elif not running:
            self.train_timer.stop()
            self._update_readout()

    def _on_status(self, message: str = "", level: str = "info", **_) -> None:
        if not shiboken6.isValid(self):
            return
        colours = {"error": "#c0392b", "warning": "#b9770e"}
        colour = colours.get(level)
        self.status_label.setStyleSheet(f"color: {colour}; font-weight: bold;" if colour else "")
        self.status_label.setText(_safety.shown(message))  # plain text; may name a file
        self._status_clear.start(20000 if level in colours else 8000)

    def _on_scenario(self, **_) -> None:
        """The 2-D state took a new scenario (a stage, a session): follow it on screen."""
        if not shiboken6.isValid(self):
            return
        st = self.state
        if not self._applying_stage and st.scenario_id:
            # A session or an undo brought a scenario in: show its stage's layout.
            try:
                stage = _stages.get_stage(st.stage_id or st.scenario_id)
            except _stages.StageError:
                stage = None
            same = self.stage is not None and stage is not None \
                and self.stage.stage_id == stage.stage_id and self.current_lab == "logistic2d"
            if stage is not None and stage.lab == "logistic2d" and not same:
                self._arrange(stage)
                return
        if self.stage is None and not self._applying_stage:
            try:
                self.stage = _stages.get_stage("workbench")
            except _stages.StageError:
                self.stage = None
        if self.current_lab == "logistic2d":
            self._update_caption()
            self._sync_navigator()
            if self.mode == "docks":
                self._apply_panel_visibility(getattr(st, "scenario_panels", None))

    def _on_theme(self) -> None:
        if not shiboken6.isValid(self):
            return
        from bceviz.gui.widgets import apply_palette

        theme = _theme.current()
        apply_palette(self, theme)
        presenting = _theme.manager().presentation
        font = self.font()
        # In presentation the caption grows less than the plots: it is read once, the
        # panels are watched; at full size it would take a third of a 720-line screen.
        font.setPointSizeF(theme.font_pt * (0.8 if presenting else 1.0))
        self.caption_bar.setFont(font)
        self.caption_bar._refit()
        # The navigator keeps only ◀ ▶ in presentation (Page Up / Page Down work too).
        self.act_stage_combo.setVisible(not presenting)
        self.act_workbench.setVisible(not presenting)
        self.stage_host.apply_theme()
        # the window's own font changes right after the theme: size the readout then
        QTimer.singleShot(0, self._resize_readout)
        self.act_dark.blockSignals(True)
        self.act_dark.setChecked(theme.name == "dark")
        self.act_dark.blockSignals(False)

    def _resize_readout(self) -> None:
        if shiboken6.isValid(self):
            self.readout_label.setMaximumWidth(16777215)
            self._update_readout()

    def _on_view(self, **_) -> None:
        if not shiboken6.isValid(self):
            return
        v = self.state.view
        for act, on in ((self.act_nats, v.units == "nats"), (self.act_bits, v.units == "bits"),
                        (self.act_axis_p, v.curve_axis == "p"), (self.act_axis_z, v.curve_axis == "z")):
            act.blockSignals(True)
            act.setChecked(on)
            act.blockSignals(False)
        self._update_readout()

    def _on_weights(self, **_) -> None:
        if shiboken6.isValid(self) and not self._readout_timer.isActive():
            self._readout_timer.start(100)

    def _update_readout(self) -> None:
        st = self.state
        if self.current_lab != "logistic2d":
            lab = self.lab_state
            view = self.lab_views.get(self.current_lab)
            text = getattr(lab, "readout", lambda: "")() or (view.info.title if view else "")
            text = ("▶ " if lab.running else "") + text
            self._hold_readout_size(text)
            self.readout_label.setText(text)
            return
        if st.n_train == 0:
            self.readout_label.setText("no training points")
            return
        t = st.trainer
        loss = t.mean_loss()
        text = f"step {t.steps:,}   train loss {fmt.loss(loss, st.view.units)}"
        if st.running:
            text = "▶ " + text
        self._hold_readout_size(text)
        self.readout_label.setText(text)

    def _hold_readout_size(self, text: str) -> None:
        """Give the step readout a fixed size, so its updates never re-lay out the window.

        A label whose text changes asks its layout for room; in the status bar
        that request reaches the main window, which then lays out every dock
        again, ten times a second while training. A fixed-size label does not
        ask (the size grows only for a longer text or a larger font).
        """
        label = self.readout_label
        metrics = label.fontMetrics()
        width = max(metrics.horizontalAdvance("▶ step 9,999,999   train loss 0.00000 nats"),
                    metrics.horizontalAdvance(text)) + 8
        height = label.sizeHint().height()
        if width > label.maximumWidth() or height != label.maximumHeight() \
                or width < label.maximumWidth() - 200:
            label.setFixedSize(width, height)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        self.train_timer.stop()
        for ev, callback in self._listeners:
            ev.disconnect(callback)
        for panel in self.panels.values():
            panel.detach()
        super().closeEvent(event)


__all__ = ["MainWindow", "CaptionBar", "FRAME_MS", "KEYS_HELP"]
