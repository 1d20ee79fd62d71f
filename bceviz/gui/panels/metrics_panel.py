"""The threshold-and-metrics panel: turn probabilities into decisions and see what each costs.

Reads from the state: the points ``X``, labels ``y`` and ``heldout`` mask, the
model's probabilities (``proba_of``), ``threshold``, and, when the points
were chosen from a table (``state.table``, e.g. the breast-cancer scenario),
the table's columns and ``state.axes`` (feature names and the mean and std
that convert standardised coordinates back to the file's units).

Writes to the state: ``set_threshold`` (the slider, the draggable line on
the score histogram, the "best threshold" buttons) and ``choose_features``
(the two feature pickers, shown only when a table is loaded).

Shows, for the training and the held-out split: the confusion matrix (counts
and rates) of one split, precision / recall / specificity / F1 / accuracy at
the threshold, ROC with AUC and PR with AP (current threshold's point
marked), the reliability diagram with ECE and Brier score, and the scores'
distribution per class. Every number comes from ``bceviz.engine.metrics``.

"Best threshold" chooses on the **held-out** split only, and then reports
how the same threshold does on the training split: a threshold tuned on the
data the model was fitted to flatters it, so it is chosen on separate data.

Soft labels are read as classes at 0.5 (``metrics.hard_labels``), and the
panel says so. A split with one class (or no points) gets a plain message in
place of its curves, never NaN. Curves cost a few milliseconds, so the panel
redraws at most every ``min_interval_ms`` during training; a threshold change
alone only redraws the cheap parts, at once.
"""

from __future__ import annotations

import time
from typing import Optional

import numpy as np
import shiboken6
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import (
    QBoxLayout,
    QComboBox,
    QDoubleSpinBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from bceviz.engine import metrics as _metrics
from bceviz.gui import format as fmt
from bceviz.gui import theme as _theme
from bceviz.gui.panels.base import Panel, place_plots
from bceviz.gui.rendering import PathCurve, PixelDots, PixelMarker
from bceviz.model.figures import SPLIT_NAMES, metric_value, metrics_figures, score_split
from bceviz.gui.safety import plain_label, shown
from bceviz.gui.steady import SteadyLabel
from bceviz.model.state import StateError

SPLITS = ("train", "heldout")

SHORT_NAMES = {"train": "train", "heldout": "held-out"}
#: Shortest time between two redraws of the curves (ms); longer when a redraw is slow.
MIN_INTERVAL_MS = 33  # 30 redraws a second while training (the figures come from model.figures)
#: Slider resolution: thresholds 0, 0.001, ..., 1 (the buttons set exact values).
SLIDER_STEPS = 1000
HIST_BINS = 40
#: Default cost of a missed positive, in units of a false alarm.
DEFAULT_COST_RATIO = 10.0
#: Below this width (px) the panel is compact: plots on top, the confusion matrix and the
#: table side by side below them, shorter button texts, no axis titles. At 1280 × 800 the
#: panel shares the screen with eight others and is about 365 px wide.
COMPACT_BELOW = 560
#: The smallest size of the compact layout (the panel never asks for more).
COMPACT_MIN = (330, 400)
#: The plot chooser: key (ViewOptions.metrics_plot) and text.
PLOT_CHOICES = (("all", "all four plots"), ("scores", "scores"), ("roc", "ROC"), ("pr", "PR"),
                ("reliability", "reliability"))
#: Button texts, normal and compact.
BEST_SHORT = {"f1": "F1", "youden": "J", "cost": "cost"}
CHOICE_HINT = ("The buttons choose a threshold on the held-out points and show how it does on "
               "the training points.")
#: Rows of the metrics table: key in the split summary, label, tooltip.
METRIC_ROWS = (
    ("precision", "precision", "Of the points called positive, the share that are positive"),
    ("recall", "recall", "Of the positives, the share called positive (sensitivity, TPR)"),
    ("specificity", "specificity", "Of the negatives, the share called negative (TNR)"),
    ("f1", "F1", "Harmonic mean of precision and recall"),
    ("accuracy", "accuracy", "Share of all points classified right; misleads when a class is rare"),
    ("auc", "ROC AUC", "Chance that a random positive scores above a random negative"),
    ("ap", "AP", "Average precision: area under the PR curve, step-wise (scikit-learn)"),
    ("ece", "ECE", "Expected calibration error over 10 equal-width bins"),
    ("brier", "Brier", "Mean squared error of the probabilities against the labels"),
)
BEST_METRICS = {
    "f1": ("F1", "Threshold with the highest F1 on the held-out split"),
    "youden": ("Youden's J", "Threshold with the highest J = recall + specificity − 1 "
                             "on the held-out split (the ROC point farthest above the diagonal)"),
    "cost": ("Least cost", "Threshold with the lowest mean cost on the held-out split, a missed "
                           "positive costing the given multiple of a false alarm"),
}


#: Texts the confusion cells and the table's column headers are sized for up front
#: (they grow once if a longer one comes, and keep that size: see bceviz.gui.steady).
CELL_TEMPLATE = "FP (false alarm)\n99\n9.9 % of true 0"
CELL_TEMPLATE_COMPACT = "FP 99\n9.9 %"
HEADER_TEMPLATE = "{name}\n99 (9 pos.)"
HEADER_TEMPLATE_COMPACT = "{name}\n99"


def pct(value: float, digits: int = 3) -> str:
    """A share in [0, 1] as a percentage, e.g. ``"81.2 %"``."""
    return f"{fmt.num(100.0 * value, digits)} %"


def metric_text(metric: str, value: float) -> str:
    if metric == "f1":
        return f"F1 {fmt.num(value, 3)}"
    if metric == "youden":
        return f"J {fmt.num(value, 3)}"
    return f"mean cost {fmt.num(value, 3)} per point"


class MetricsPanel(Panel):
    """Threshold slider, confusion matrix, metrics table, ROC, PR, calibration, best thresholds."""

    title = "Threshold and metrics"
    panel_id = "metrics"
    listens = ("weights", "data", "features", "threshold", "view", "scrub")
    min_interval_ms = MIN_INTERVAL_MS

    @property
    def compact_below(self) -> int:  # type: ignore[override]
        """Below this width the compact layout: COMPACT_BELOW at the theme's type size."""
        return int(COMPACT_BELOW * max(1.0, _theme.current().scale))
    compact_min = COMPACT_MIN

    def __init__(self, state, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent)
        theme = _theme.current()
        self._curves_dirty = True
        self.splits: dict[str, dict] = {}
        #: The last best-threshold choice: metric, threshold, held-out and training values.
        self.choice: Optional[dict] = None
        self._updating = False

        layout = self.vbox(self)
        layout.addWidget(self._build_feature_row())
        layout.addLayout(self._build_threshold_row())
        layout.addLayout(self._build_best_row())
        self.choice_label = QLabel(CHOICE_HINT)
        self.choice_label.setObjectName("choice_readout")
        self.choice_label.setWordWrap(True)
        layout.addWidget(self.choice_label)

        # Normal: [numbers | plots]; compact: plots above [matrix | table] (BottomToTop).
        self.body = body = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        body.setSpacing(6)
        body.addWidget(self._build_left_column(), 0)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.ci.setContentsMargins(0, 0, 0, 0)
        self.graphics.ci.setSpacing(2)
        self.graphics.setMinimumSize(260, 220)
        body.addWidget(self.graphics, 1)
        layout.addLayout(body, 1)
        self._build_plots(theme)
        self.compact = False
        self.apply_theme(theme)
        self.refresh()

    # ------------------------------------------------------------------ building
    def _build_feature_row(self) -> QWidget:
        self.feature_row = QWidget()
        rows = QVBoxLayout(self.feature_row)
        rows.setContentsMargins(0, 0, 0, 0)
        rows.setSpacing(0)
        row = QHBoxLayout()
        row.setSpacing(4)
        rows.addLayout(row)
        row.addWidget(QLabel("Features"))
        self.feature_boxes = []
        for axis in (0, 1):
            box = QComboBox()
            box.setObjectName(f"feature{axis + 1}")
            box.setToolTip(f"Column of the table shown as x{axis + 1} (standardised)")
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            box.activated.connect(self._on_feature_chosen)
            self.feature_boxes.append(box)
            row.addWidget(box)
            if axis == 0:
                row.addWidget(QLabel("×"))
        row.addStretch(1)
        self.units_label = plain_label(QLabel(""))  # holds column names: plain text
        self.units_label.setObjectName("units_label")
        self.units_label.setWordWrap(True)
        rows.addWidget(self.units_label)
        self.feature_row.setVisible(False)
        return self.feature_row

    def _build_threshold_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(6)
        row.addWidget(QLabel("Threshold"))
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("threshold_slider")
        self.slider.setRange(0, SLIDER_STEPS)
        self.slider.setPageStep(SLIDER_STEPS // 20)
        self.slider.setToolTip("Decision threshold: P(y=1) at or above it predicts 1")
        self.slider.valueChanged.connect(self._on_slider)
        row.addWidget(self.slider, 1)
        self.threshold_label = SteadyLabel(template="t = 0.0000", floor=(64, 0))
        self.threshold_label.setObjectName("threshold_value")
        row.addWidget(self.threshold_label)
        return row

    def _build_best_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(4)
        self.best_label = QLabel("Best on held-out:")
        self.best_label.setToolTip(CHOICE_HINT)
        row.addWidget(self.best_label)
        self.best_buttons: dict[str, QPushButton] = {}
        for metric, (text, tip) in BEST_METRICS.items():
            button = QPushButton(text)
            button.setObjectName(f"best_{metric}")
            button.setToolTip(tip)
            button.clicked.connect(lambda _=False, m=metric: self.choose_best(m))
            self.best_buttons[metric] = button
            row.addWidget(button)
        self.cost_ratio = QDoubleSpinBox()
        self.cost_ratio.setObjectName("cost_ratio")
        self.cost_ratio.setRange(0.01, 1000.0)
        self.cost_ratio.setDecimals(2)
        self.cost_ratio.setValue(DEFAULT_COST_RATIO)
        self.cost_ratio.setPrefix("FN = ")
        self.cost_ratio.setSuffix(" × FP")
        self.cost_ratio.setToolTip("Cost of a missed positive (false negative) in units of a "
                                   "false alarm (false positive), for the 'Least cost' button")
        row.addWidget(self.cost_ratio)
        row.addStretch(1)
        self.plot_chooser = QComboBox()
        self.plot_chooser.setObjectName("metrics_plot_chooser")
        self.plot_chooser.setToolTip("Show all four plots small, or one of them large "
                                     "(for a room)")
        for key, text in PLOT_CHOICES:
            self.plot_chooser.addItem(text, key)
        self.plot_chooser.activated.connect(self._on_plot_chooser)
        row.addWidget(self.plot_chooser)
        return row

    #: Below this many pixels per unit an axis of [0, 1] shows 0, 0.5 and 1 only, so its
    #: tick labels never run together ("0.20.40.60.8").
    SPARSE_TICKS_BELOW = 230
    _SPARSE = [[(0.0, "0"), (0.5, "0.5"), (1.0, "1")], []]

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        if hasattr(self, "plot_chooser"):  # once the layout has given the plots their size
            QTimer.singleShot(0, self._rearrange)
        self._thin_ticks()

    def _rearrange(self) -> None:
        if shiboken6.isValid(self):
            self._arrange_plots()

    def _thin_ticks(self) -> None:
        for plot in getattr(self, "plots", ()):
            rect = plot.vb.sceneBoundingRect() if plot.vb is not None else None
            if rect is None:
                continue
            for name, extent in (("bottom", rect.width()), ("left", rect.height())):
                if name == "left" and plot is self.hist_plot:
                    continue  # shares of a class: not a [0, 1] axis
                sparse = extent < self.SPARSE_TICKS_BELOW * (0.7 if name == "left" else 1.0)
                axis = plot.getAxis(name)
                if getattr(axis, "_bceviz_sparse", None) != sparse:
                    axis._bceviz_sparse = sparse
                    axis.setTicks(self._SPARSE if sparse else None)

    def _on_plot_chooser(self, index: int) -> None:
        key = self.plot_chooser.itemData(index)
        if key and key != self.state.view.metrics_plot:
            try:
                self.state.set_view(metrics_plot=key)
            except StateError as exc:
                self.state.set_status(str(exc), "error")

    def _arrange_plots(self) -> None:
        """All four plots as 2 × 2, or the one the view names, large."""
        choice = self.state.view.metrics_plot
        # a wide, short plot area (compact, under a room's larger type): one row of four
        size = self.graphics.size()
        row = choice == "all" and self.compact and size.width() > 2.5 * size.height()
        if getattr(self, "_arranged", None) == (choice, row):
            return
        self._arranged = (choice, row)
        # place_plots: the plots not shown stay hidden in the scene (never orphaned)
        if choice == "all" and row:
            placements = [(plot, 0, i) for i, plot in enumerate(self.plots)]
        elif choice == "all":
            placements = [(plot, i // 2, i % 2) for i, plot in enumerate(self.plots)]
        else:
            plot = dict(zip(("scores", "roc", "pr", "reliability"), self.plots))[choice]
            placements = [(plot, 0, 0)]
        place_plots(self.graphics.ci, self.plots, placements)
        index = self.plot_chooser.findData(choice)
        if index != self.plot_chooser.currentIndex():
            self.plot_chooser.setCurrentIndex(index)
        self._thin_ticks()

    def _build_left_column(self) -> QWidget:
        self.left_column = column = QWidget()
        column.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
        self.column_layout = outer = QBoxLayout(QBoxLayout.Direction.TopToBottom, column)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(3)
        matrix_box, table_box = QWidget(), QWidget()
        outer.addWidget(matrix_box, 0, Qt.AlignmentFlag.AlignTop)
        outer.addWidget(table_box, 0, Qt.AlignmentFlag.AlignTop)
        outer.addStretch(1)
        col = QVBoxLayout(matrix_box)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(3)
        split_row = QHBoxLayout()
        self.split_label = QLabel("Confusion matrix of")
        split_row.addWidget(self.split_label)
        self.split_box = QComboBox()
        self.split_box.setObjectName("split_box")
        self.split_box.addItem("held-out", "heldout")
        self.split_box.addItem("training", "train")
        self.split_box.setToolTip("Split shown in the confusion matrix and the score histogram")
        self.split_box.activated.connect(lambda _: self._redraw_after_split())
        split_row.addWidget(self.split_box)
        split_row.addStretch(1)
        col.addLayout(split_row)

        grid = QGridLayout()
        grid.setSpacing(2)
        self.matrix_headers = {
            "pred1": QLabel("pred. 1"), "pred0": QLabel("pred. 0"),
            "true1": QLabel("true 1"), "true0": QLabel("true 0"),
        }
        for header in self.matrix_headers.values():
            plain_label(header)  # the true-class headers show the label column's name
        for key, (r, c) in (("pred1", (0, 1)), ("pred0", (0, 2)), ("true1", (1, 0)),
                            ("true0", (2, 0))):
            label = self.matrix_headers[key]
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            grid.addWidget(label, r, c)
        #: Confusion cells by name: "tp", "fn" (true 1 row), "fp", "tn" (true 0 row).
        self.cells: dict[str, QLabel] = {}
        for name, (r, c) in (("tp", (1, 1)), ("fn", (1, 2)), ("fp", (2, 1)), ("tn", (2, 2))):
            # steady: the counts change on every redraw, the layout should not
            cell = SteadyLabel(template=CELL_TEMPLATE, floor=(86, 44))
            cell.setObjectName(f"cell_{name}")
            cell.setAlignment(Qt.AlignmentFlag.AlignCenter)
            cell.setFrameShape(QFrame.Shape.StyledPanel)
            cell.refit()  # (the frame adds to its size)
            self.cells[name] = cell
            grid.addWidget(cell, r, c)
        col.addLayout(grid)

        col = QVBoxLayout(table_box)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(3)
        self.table_grid = table = QGridLayout()
        table.setHorizontalSpacing(8)
        table.setVerticalSpacing(0)
        self.table_corner = QLabel("at threshold")
        table.addWidget(self.table_corner, 0, 0)
        self.split_headers = {}
        for j, split in enumerate(SPLITS, start=1):
            header = SteadyLabel(SPLIT_NAMES[split],
                                 template=HEADER_TEMPLATE.format(name=SPLIT_NAMES[split]))
            header.setAlignment(Qt.AlignmentFlag.AlignRight)
            self.split_headers[split] = header
            table.addWidget(header, 0, j, Qt.AlignmentFlag.AlignRight)
        #: Metric value labels by (metric key, split).
        self.value_labels: dict[tuple[str, str], QLabel] = {}
        for i, (key, text, tip) in enumerate(METRIC_ROWS, start=1):
            name = QLabel(text)
            name.setToolTip(tip)
            table.addWidget(name, i, 0)
            for j, split in enumerate(SPLITS, start=1):
                value = SteadyLabel(template="0.0000")
                value.setObjectName(f"value_{key}_{split}")
                value.setAlignment(Qt.AlignmentFlag.AlignRight)
                value.setToolTip(tip)
                self.value_labels[(key, split)] = value
                table.addWidget(value, i, j, Qt.AlignmentFlag.AlignRight)
        col.addLayout(table)
        self.note_label = QLabel("")
        self.note_label.setObjectName("note_label")
        self.note_label.setWordWrap(True)
        self.note_label.setMaximumWidth(290)
        col.addWidget(self.note_label)
        return column

    # ------------------------------------------------------------------ compact layout
    def set_compact(self, on: bool) -> None:
        """Switch between the normal layout and the compact one (see COMPACT_BELOW)."""
        on = bool(on)
        if on == getattr(self, "compact", on):  # (not built yet: nothing to switch)
            return
        self.compact = on
        self.body.setDirection(QBoxLayout.Direction.BottomToTop if on
                               else QBoxLayout.Direction.LeftToRight)
        self.column_layout.setDirection(QBoxLayout.Direction.LeftToRight if on
                                        else QBoxLayout.Direction.TopToBottom)
        self.left_column.setSizePolicy(
            QSizePolicy.Policy.Preferred if on else QSizePolicy.Policy.Fixed,
            QSizePolicy.Policy.Fixed if on else QSizePolicy.Policy.Preferred)
        self.graphics.setMinimumSize(*((200, 150) if on else (260, 220)))
        self.best_label.setText("Best:" if on else "Best on held-out:")
        for metric, button in self.best_buttons.items():
            button.setText(BEST_SHORT[metric] if on else BEST_METRICS[metric][0])
        self.cost_ratio.setPrefix("FN=" if on else "FN = ")
        self.cost_ratio.setSuffix("×FP" if on else " × FP")
        self.split_label.setText("Confusion of" if on else "Confusion matrix of")
        self.table_corner.setText("at t" if on else "at threshold")
        for button in self.best_buttons.values():
            # push buttons never shrink below their text's width plus the style's padding
            button.setMaximumWidth(button.fontMetrics().horizontalAdvance(button.text()) + 24
                                   if on else 16777215)
        self.table_grid.setHorizontalSpacing(4 if on else 8)
        for cell in self.cells.values():
            cell.setText("")
            cell.refit(CELL_TEMPLATE_COMPACT if on else CELL_TEMPLATE)
            cell.set_floor(*((60, 34) if on else (86, 44)))
        for split, header in self.split_headers.items():
            header.setText("")
            name = SHORT_NAMES[split] if on else SPLIT_NAMES[split]
            header.refit((HEADER_TEMPLATE_COMPACT if on else HEADER_TEMPLATE).format(name=name))
        for plot in self.plots:
            for name in ("left", "bottom"):
                plot.getAxis(name).showLabel(not on)
            self._size_axes(plot)
        self._show_choice_hint()
        if self.splits:
            if self._curves_dirty:  # the data changed while the panel was off screen
                self._dirty = True
                self.flush()
            else:
                self._draw_curves()
                self._draw_threshold()

    def _size_axes(self, plot) -> None:
        """Axis room for tick labels and a title at the theme's font size (presentation too)."""
        scale = _theme.current().scale
        on = getattr(self, "compact", False)
        plot.getAxis("left").setWidth(int((34 if on else 44) * scale))
        plot.getAxis("bottom").setHeight(int((20 if on else 30) * scale))

    def _show_choice_hint(self) -> None:
        # Compact: the hint is the buttons' tooltip; the label shows only a choice made.
        hint_only = self.choice is None and self.choice_label.text() == CHOICE_HINT
        self.choice_label.setVisible(not (self.compact and hint_only))

    def _plot(self, row: int, col: int, x_label: str, y_label: str) -> pg.PlotItem:
        plot = self.graphics.addPlot(row=row, col=col, enableMenu=False)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setMouseEnabled(x=False, y=False)
        plot.setLabel("bottom", x_label)
        plot.setLabel("left", y_label)
        plot.getAxis("left").setWidth(44)
        plot.getAxis("bottom").setHeight(30)
        for axis in ("left", "bottom"):
            plot.getAxis(axis).enableAutoSIPrefix(False)
        return plot

    def _build_plots(self, theme: _theme.Theme) -> None:
        self.hist_plot = self._plot(0, 0, "P(y=1)", "share of class")
        self.roc_plot = self._plot(0, 1, "false-positive rate", "recall (TPR)")
        self.pr_plot = self._plot(1, 0, "recall", "precision")
        self.cal_plot = self._plot(1, 1, "mean P(y=1) in bin", "fraction positive")
        self.plots = (self.hist_plot, self.roc_plot, self.pr_plot, self.cal_plot)
        for plot in self.plots:
            plot.setXRange(0.0, 1.0, padding=0.02)
            plot.setYRange(0.0, 1.0, padding=0.02)
        # The histogram's height is held (see _hold_hist_top): an auto-ranged axis would
        # re-label itself on every redraw while training.
        self._hist_top = 1.0

        # score histogram: one step curve per class, and the draggable threshold
        # step curves (stepMode given with each setData: an empty one cannot have it)
        self.hist_neg = PathCurve(fillLevel=0)
        self.hist_pos = PathCurve(fillLevel=0)
        self.hist_plot.addItem(self.hist_neg)
        self.hist_plot.addItem(self.hist_pos)
        self.threshold_line = pg.InfiniteLine(pos=self.state.threshold, angle=90, movable=True,
                                              bounds=(0.0, 1.0))
        self.threshold_line.setToolTip("Drag to move the decision threshold")
        self.threshold_line.setZValue(20)
        self.threshold_line.sigPositionChanged.connect(self._on_line_moved)
        self.hist_plot.addItem(self.threshold_line)

        # ROC and PR: a curve and a current-threshold marker per split
        self.roc_chance = PathCurve([0, 1], [0, 1])
        self.roc_plot.addItem(self.roc_chance)
        self.pr_base = PathCurve()
        self.pr_plot.addItem(self.pr_base)
        self.cal_diagonal = PathCurve([0, 1], [0, 1])
        self.cal_plot.addItem(self.cal_diagonal)
        # ROC and PR lines are PathCurves: a PlotDataItem's setData
        # costs about four times as much, and the panel sets nine of them a redraw.
        self.curves: dict[tuple[str, str], pg.GraphicsObject] = {}
        self.markers: dict[tuple[str, str], PixelMarker] = {}
        self.cal_dots: dict[str, PixelDots] = {}
        for plot_name, plot in (("roc", self.roc_plot), ("pr", self.pr_plot),
                                ("cal", self.cal_plot)):
            for split in SPLITS:
                curve = PathCurve(name=SPLIT_NAMES[split])
                plot.addItem(curve)
                self.curves[(plot_name, split)] = curve
                if plot_name == "cal":  # a dot per non-empty bin on the line
                    dots = self.cal_dots[split] = PixelDots(size=6)
                    dots.setZValue(5)
                    plot.addItem(dots, ignoreBounds=True)
                if plot_name != "cal":
                    marker = PixelMarker(size=10)  # one point: Qt's own item
                    marker.setZValue(10)
                    plot.addItem(marker, ignoreBounds=True)
                    self.markers[(plot_name, split)] = marker

        # plain messages in place of curves (single class, no points)
        self.messages: dict[str, pg.TextItem] = {}
        for plot_name, plot, pos in (("hist", self.hist_plot, None),
                                     ("roc", self.roc_plot, (0.5, 0.5)),
                                     ("pr", self.pr_plot, (0.5, 0.5)),
                                     ("cal", self.cal_plot, (0.5, 0.5))):
            text = pg.TextItem("", anchor=(0.5, 0.5))
            text.setZValue(30)
            plot.addItem(text, ignoreBounds=True)
            if pos is not None:
                text.setPos(*pos)
            self.messages[plot_name] = text

    def apply_theme(self, theme: _theme.Theme) -> None:
        self.graphics.setBackground(theme.background)
        for plot in self.plots:
            _theme.style_plot(plot, theme)
            self._size_axes(plot)
        split_colour = {"train": theme.accent, "heldout": theme.soft}
        split_style = {"train": None, "heldout": Qt.PenStyle.DashLine}
        for (plot_name, split), curve in self.curves.items():
            pen = theme.pen(split_colour[split], width=1.8, style=split_style[split])
            curve.setPen(pen)
            if plot_name == "cal":
                dots = self.cal_dots[split]
                dots.setSize(6 * theme.scale)
                dots.setBrush(theme.brush(split_colour[split]))
                dots.setPen(None)
        for (_, split), marker in self.markers.items():
            marker.setBrush(theme.brush(split_colour[split]))
            marker.setPen(theme.pen(theme.foreground, width=1.2))
            marker.setSize(10 * theme.scale)
        muted = theme.pen(theme.muted, width=1.0, style=Qt.PenStyle.DotLine)
        for item in (self.roc_chance, self.pr_base, self.cal_diagonal):
            item.setPen(muted)
        self.hist_neg.setPen(theme.pen(theme.neg, width=1.5))
        self.hist_neg.setBrush(theme.brush(theme.neg, 60))
        self.hist_pos.setPen(theme.pen(theme.pos, width=1.5))
        self.hist_pos.setBrush(theme.brush(theme.pos, 60))
        self.threshold_line.setPen(theme.pen(theme.foreground, width=2.0))
        self.threshold_line.setHoverPen(theme.pen(theme.accent, width=3.0))
        for text in self.messages.values():
            text.setColor(pg.mkColor(theme.foreground))
        self.note_label.setStyleSheet(f"color: {theme.muted};")
        for split, header in self.split_headers.items():
            # colour and weight without a style sheet, so the panel's type size reaches it
            palette = QPalette()
            palette.setColor(QPalette.ColorRole.WindowText, QColor(pg.mkColor(split_colour[split])))
            header.setPalette(palette)
            bold = QFont()
            bold.setBold(True)
            header.setFont(bold)
        self.units_label.setStyleSheet(f"color: {theme.muted};")
        self._theme = theme
        self._curves_dirty = True  # titles carry the split colours
        if self.width() > 0:  # presentation's type: the compact width moves with it
            self.set_compact(self.width() < self.compact_below)

    # ------------------------------------------------------------------ events
    def on_event(self, name: str, **info) -> None:
        if name != "threshold":
            self._curves_dirty = True
        if name == "data" and info.get("kind") == "reset":
            # new points (a stage, a file, a session): the readouts' held sizes start
            # afresh, so one large data set does not leave wide cells behind
            for label in (*self.cells.values(), *self.split_headers.values(),
                          *self.value_labels.values()):
                label.refit()
        if name == "data" and info.get("kind") == "reset" and self.choice is not None:
            # new points (a stage, a file, a session): a threshold chosen on the old
            # held-out points says nothing about them
            self.choice = None
            self.choice_label.setText(CHOICE_HINT)
            self._show_choice_hint()

    def schedule(self, paced: bool = False) -> None:
        # A threshold change alone redraws only counts and markers (cheap): at once.
        if self._curves_dirty:
            super().schedule(paced)
            return
        self._dirty = True
        if not self._timer.isActive():
            self._timer.start(0)

    def _on_slider(self, value: int) -> None:
        if self._updating:
            return
        self._set_threshold(value / SLIDER_STEPS)

    def _on_line_moved(self) -> None:
        if self._updating:
            return
        self._set_threshold(float(self.threshold_line.value()))

    def _set_threshold(self, t: float) -> None:
        try:
            self.state.set_threshold(t)
        except StateError as exc:
            self.state.set_status(str(exc), "error")

    def _on_feature_chosen(self, _index: int = 0) -> None:
        f1, f2 = (box.currentText() for box in self.feature_boxes)
        if f1 == f2:
            self.state.set_status("Choose two different features", "warning")
            self._show_features()
            return
        try:
            self.state.choose_features(f1, f2)
        except StateError as exc:
            self.state.set_status(str(exc), "error")
            self._show_features()
            return
        self.state.set_status(f"Features: {f1} × {f2} (standardised)", "info")

    def _redraw_after_split(self) -> None:
        self._curves_dirty = True
        self._dirty = True
        self.flush()

    # ------------------------------------------------------------------ actions
    def choose_best(self, metric: str) -> Optional[float]:
        """Set the threshold that optimises ``metric`` on the held-out split; returns it.

        Shows how the same threshold does on the training split. Without a
        usable held-out split it says so and changes nothing (returns None).
        """
        if self._curves_dirty or not self.splits:
            self._dirty = True
            self.flush()
        held = self.splits.get("heldout")
        if held is None or held["problem"]:
            why = held["problem"] if held else "held-out split: no points"
            self.choice = None
            self.choice_label.setText(
                f"Cannot choose: {why}. A threshold must be chosen on points the model was not "
                "trained on; give the data a held-out share (Controls → held-out).")
            self._show_choice_hint()
            return None
        cost_fn = float(self.cost_ratio.value())
        labels, probs = self._split_arrays("heldout")
        t, value = _metrics.best_threshold(labels, probs, metric, cost_fn=cost_fn, cost_fp=1.0)
        t = min(max(t, 0.0), 1.0)
        self.choice = {"metric": metric, "threshold": t, "heldout": value, "train": None,
                       "cost_fn": cost_fn}
        train_labels, train_probs = self._split_arrays("train")
        if train_labels.size:
            report = _metrics.classification_report(train_labels, train_probs, t)
            self.choice["train"] = metric_value(report, metric, cost_fn, 1.0)
        self._set_threshold(t)
        self._show_choice()
        return t

    def _show_choice(self) -> None:
        c = self.choice
        if c is None:
            return
        what = BEST_METRICS[c["metric"]][0]
        if c["metric"] == "cost":
            what = f"least cost (FN = {fmt.num(c['cost_fn'], 3)} × FP)"
        n_held = self.splits["heldout"]["n"]
        text = (f"{what}: t = {fmt.num(c['threshold'], 4)}, chosen on held-out "
                f"({n_held:,} points): {metric_text(c['metric'], c['heldout'])}.")
        if c["train"] is not None:
            text += f" Same t on training: {metric_text(c['metric'], c['train'])}."
        if abs(self.state.threshold - c["threshold"]) > 1e-12:
            text += " (threshold moved since)"
        self.choice_label.setText(text)
        self._show_choice_hint()

    # ------------------------------------------------------------------ computing
    def _split_arrays(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        st = self.state
        mask = st.heldout if split == "heldout" else ~st.heldout
        if not mask.any():
            return np.empty(0), np.empty(0)
        labels = _metrics.hard_labels(st.y[mask])
        return labels, self._probs[mask]

    def _compute_curves(self) -> None:
        """Probabilities and everything threshold-independent, for both splits."""
        figures = metrics_figures(self.state)  # one computation per state change, shared
        self._model_ok, self._probs, self._soft = figures.model_ok, figures.probs, figures.soft
        # a copy: the threshold parts are updated in place between model changes
        self.splits = {split: dict(figures.splits[split]) for split in SPLITS}
        self._curves_dirty = False

    def _update_threshold_parts(self) -> None:
        t = self.state.threshold
        for split in SPLITS:
            labels, p = self._split_arrays(split)
            if labels.size:
                self.splits[split].update(_metrics.classification_report(labels, p, t))

    # ------------------------------------------------------------------ drawing
    def refresh(self) -> None:
        self._arrange_plots()
        if self._curves_dirty or not self.splits:
            started = time.perf_counter()
            self._compute_curves()
            self._draw_curves()
            # Adaptive throttle: with many points a redraw takes tens of ms; keep the
            # panel under about a fifth of the interface's time while training runs.
            elapsed_ms = (time.perf_counter() - started) * 1000.0
            self.min_interval_ms = max(MIN_INTERVAL_MS, min(int(3 * elapsed_ms), 1000))
        else:
            self._update_threshold_parts()
        self._draw_threshold()
        self._show_features()

    def _current_split(self) -> str:
        split = self.split_box.currentData()
        if split == "heldout" and self.splits.get("heldout", {}).get("n", 0) == 0:
            return "train"
        return split

    @staticmethod
    def _set_title(plot: pg.PlotItem, text: str) -> None:
        # laying out a title costs ~2 ms: only when it changes
        if getattr(plot, "_shown_title", None) != text:
            plot.setTitle(text, size="9pt")
            plot._shown_title = text

    def _draw_curves(self) -> None:
        theme = self._theme
        problems = [s["problem"] for s in self.splits.values() if s["problem"]]

        # score histogram of the chosen split, per class as a share of the class
        split = self._current_split()
        labels, p = self._split_arrays(split)
        edges = np.linspace(0.0, 1.0, HIST_BINS + 1)
        top = 0.0
        for item, cls in ((self.hist_neg, 0.0), (self.hist_pos, 1.0)):
            members = p[labels == cls]
            if members.size:
                counts, _ = np.histogram(members, bins=edges)
                shares = counts / members.size
                top = max(top, float(shares.max()))
                item.setData(edges, shares, stepMode="center")
            else:
                item.setData(edges, np.zeros(HIST_BINS), stepMode="center")
        self._hold_hist_top(top)
        self._set_title(self.hist_plot, f"scores, {SHORT_NAMES[split]}" if self.compact
                        else f"scores, {SPLIT_NAMES[split]} split")
        hist_msg = "" if labels.size else "no points"
        self.messages["hist"].setText(hist_msg)
        if hist_msg:
            self.messages["hist"].setPos(0.5, 0.5)

        # ROC, PR, calibration for both splits
        for split in SPLITS:
            s = self.splits[split]
            if s["roc"] is not None:
                fpr, tpr, _ = s["roc"]
                self.curves[("roc", split)].setData(fpr, tpr)
                precision, recall, _ = s["pr"]
                # drawn as the staircase whose area is scikit-learn's step-wise AP
                self.curves[("pr", split)].setData(np.repeat(recall, 2)[1:],
                                                   np.repeat(precision, 2)[:-1])
            else:
                self.curves[("roc", split)].setData([], [])
                self.curves[("pr", split)].setData([], [])
            if s["calibration"] is not None:
                mean_p, frac, counts = s["calibration"]
                filled = counts > 0
                self.curves[("cal", split)].setData(mean_p[filled], frac[filled])
                self.cal_dots[split].setData(mean_p[filled], frac[filled])
            else:
                self.curves[("cal", split)].setData([], [])
                self.cal_dots[split].setData([], [])

        held = self.splits["heldout"]
        base_split = held if held["n"] and not held["problem"] else self.splits["train"]
        if base_split["n"] and not base_split["problem"]:
            prevalence = base_split["n_pos"] / base_split["n"]
            self.pr_base.setData([0.0, 1.0], [prevalence, prevalence])
        else:
            self.pr_base.setData([], [])

        colours = {"train": theme.accent, "heldout": theme.soft}

        def title(key: str, name: str, digits: int = 3) -> str:
            # numbers in the colour of their split's curve (training, then held-out)
            parts = [f'<span style="color: {colours[sp]}">'
                     f'{fmt.num(self.splits[sp][key], digits)}</span>'
                     for sp in SPLITS if self.splits[sp][key] is not None]
            return f"{name} " + " &nbsp;".join(parts) if parts else name

        if self.compact:  # the numbers are in the table beside the plots
            for plot, name in ((self.roc_plot, "ROC"), (self.pr_plot, "PR"),
                               (self.cal_plot, "reliability")):
                self._set_title(plot, name)
        else:
            self._set_title(self.roc_plot, title("auc", "ROC · AUC"))
            self._set_title(self.pr_plot, title("ap", "PR · AP"))
            self._set_title(self.cal_plot, title("ece", "reliability · ECE", digits=2))

        # A message inside a plot only when no split has a curve there: one split's
        # problem is said in its column header, never printed over the other's curve.
        both_missing = all(self.splits[sp]["roc"] is None for sp in SPLITS)
        ranking_msg = "\n".join(f"{pr}: no curve" for pr in problems) if both_missing else ""
        if not self._model_ok:
            ranking_msg = "the model's outputs are not finite numbers"
        for name in ("roc", "pr"):
            self.messages[name].setText(ranking_msg)
            self.messages[name].setPos(0.5, 0.5)
        no_points = [f"{SPLIT_NAMES[sp]} split: no points" for sp in SPLITS
                     if self.splits[sp]["n"] == 0]
        self.messages["cal"].setText("\n".join(no_points) if len(no_points) == 2 else "")
        self.messages["cal"].setPos(0.5, 0.5)
        # the confusion chooser says what it shows: no held-out points, no held-out choice
        held_index = self.split_box.findData("heldout")
        has_held = self.splits["heldout"]["n"] > 0
        item = self.split_box.model().item(held_index) if held_index >= 0 else None
        if item is not None:
            item.setEnabled(has_held)
        if not has_held and self.split_box.currentData() == "heldout":
            self.split_box.blockSignals(True)
            self.split_box.setCurrentIndex(self.split_box.findData("train"))
            self.split_box.blockSignals(False)

        for sp in SPLITS:
            s = self.splits[sp]
            name = SHORT_NAMES[sp] if self.compact else SPLIT_NAMES[sp]
            if s["n"]:
                full = f"{SPLIT_NAMES[sp]}\n{s['n']:,} ({s['n_pos']:,} pos.)"
                self.split_headers[sp].setText(f"{name}\n{s['n']:,}" if self.compact else full)
                self.split_headers[sp].setToolTip(full.replace("\n", ": "))
            else:
                self.split_headers[sp].setText(f"{name}\nno points")

        notes = []
        if self._soft:
            notes.append("Soft labels are read as classes at 0.5.")
        if self.splits["heldout"]["n"] == 0:
            notes.append("No held-out points: every number here is on the training data.")
        elif not all(self.splits[sp]["roc"] is None for sp in SPLITS):
            # one split without curves: said here, not printed over the other's curves
            notes.extend(f"{pr[0].upper()}{pr[1:]}: no ROC or PR curve." for pr in problems)
        self.note_label.setText(" ".join(notes))

    def _hold_hist_top(self, top: float) -> None:
        """Y range of the histogram: changed only when the tallest bar leaves 45–100 % of it.

        While the timeline is scrubbed it only grows: the steps shown one after
        another then share one scale (and the axis is not re-laid out per step).
        """
        if top <= 0.0:
            return
        scrubbed = getattr(self.state, "scrub_index", None) is not None
        if top > self._hist_top or (top < 0.45 * self._hist_top and not scrubbed):
            self._hist_top = min(1.0, 1.25 * top)
            self.hist_plot.setYRange(0.0, self._hist_top, padding=0.02)

    def _draw_threshold(self) -> None:
        st = self.state
        t = st.threshold
        self._updating = True
        try:
            self.slider.setValue(int(round(t * SLIDER_STEPS)))
            self.threshold_line.setValue(t)
        finally:
            self._updating = False
        self.threshold_label.setText(f"t = {fmt.num(t, 4)}")

        # markers at the threshold
        for sp in SPLITS:
            s = self.splits[sp]
            if s["roc"] is not None and "recall" in s:
                self.markers[("roc", sp)].setData([s["fpr"]], [s["recall"]])
                # the PR point of "nothing predicted positive" is (0, 1) by convention
                precision = s["precision"] if (s["tp"] + s["fp"]) else 1.0
                self.markers[("pr", sp)].setData([s["recall"]], [precision])
            else:
                self.markers[("roc", sp)].setData([], [])
                self.markers[("pr", sp)].setData([], [])

        # metrics table
        for key, _, _ in METRIC_ROWS:
            for sp in SPLITS:
                s = self.splits[sp]
                value = s.get(key)
                label = self.value_labels[(key, sp)]
                if value is None:
                    label.setText("—")
                    label.setToolTip("needs both classes" if s["n"] else "no points")
                else:
                    label.setText(fmt.num(value, 3))

        # confusion matrix of the chosen split, counts and rates within the true class
        split = self._current_split()
        s = self.splits[split]
        label_name = st.axes.label_name
        named = label_name.casefold() not in ("label", "y", "class", "target")
        label_name = shown(label_name)
        self.matrix_headers["true1"].setText(f"true 1\n{label_name}" if named else "true 1")
        self.matrix_headers["true0"].setText("true 0\nnot " + label_name if named else "true 0")
        theme = self._theme
        self._show_choice()
        if s["n"] == 0:
            for cell in self.cells.values():
                cell.setText("—")
                self._shade(cell, None, None)
            return
        n_pos, n_neg = s["tp"] + s["fn"], s["tn"] + s["fp"]
        rates = {
            "tp": (s["tp"], n_pos, "of true 1"), "fn": (s["fn"], n_pos, "of true 1"),
            "fp": (s["fp"], n_neg, "of true 0"), "tn": (s["tn"], n_neg, "of true 0"),
        }
        captions = {"tp": "TP", "fn": "FN (missed)", "fp": "FP (false alarm)", "tn": "TN"}
        for name, (count, total, of_what) in rates.items():
            rate = count / total if total else None
            rate_text = f"{pct(rate)} {of_what}" if rate is not None else f"no {of_what[3:]}"
            if self.compact:
                short = pct(rate) if rate is not None else "—"
                self.cells[name].setText(f"{captions[name].split()[0]} {count:,}\n{short}")
                self.cells[name].setToolTip(f"{captions[name]}: {count:,}, {rate_text}")
            else:
                self.cells[name].setText(f"{captions[name]}\n{count:,}\n{rate_text}")
                self.cells[name].setToolTip("")
            good = name in ("tp", "tn")
            # shaded in tenths of the rate, so a redraw rarely changes a cell's palette
            alpha = int(20 + 9 * round(10 * (rate if rate is not None else 0.0)))
            self._shade(self.cells[name], theme.good if good else theme.pos, alpha)

    @staticmethod
    def _shade(cell: QLabel, colour, alpha: Optional[int]) -> None:
        """A translucent background (None: none) over the panel's, by palette.

        Not a style sheet: one re-polishes its widget (~1 ms) and stops the
        panel's font (presentation's larger type) from reaching the cell.
        """
        key = None if alpha is None else (str(colour), alpha)
        if getattr(cell, "_bceviz_shade", "unset") == key:
            return
        cell._bceviz_shade = key
        if key is None:
            cell.setAutoFillBackground(False)
            cell.setPalette(QPalette())
            return
        c = QColor(pg.mkColor(colour))
        c.setAlpha(alpha)
        palette = QPalette()  # only the background role set: the rest is the panel's
        palette.setColor(QPalette.ColorRole.Window, c)
        cell.setPalette(palette)
        cell.setAutoFillBackground(True)

    def _show_features(self) -> None:
        st = self.state
        choice = getattr(st, "table", None)
        if choice is None:
            self.feature_row.setVisible(False)
            return
        columns = choice.feature_columns
        axes = st.axes
        for axis, box in enumerate(self.feature_boxes):
            if [box.itemText(i) for i in range(box.count())] != columns:
                box.blockSignals(True)
                box.clear()
                box.addItems(columns)
                box.blockSignals(False)
            if box.currentText() != axes.names[axis]:
                box.blockSignals(True)
                box.setCurrentIndex(max(box.findText(axes.names[axis]), 0))
                box.blockSignals(False)
        if axes.standardized:
            parts = [f"{shown(axes.names[i])} = {fmt.num(axes.mean[i], 4)} + "
                     f"{fmt.num(axes.std[i], 4)}"
                     f" × x{i + 1}" for i in (0, 1)]
            self.units_label.setText("x1, x2 are standardised; in the file's units "
                                     + ",  ".join(parts))
            self.units_label.setToolTip("Plots show standardised features (x − mean) / std; "
                                        "these convert them back to the file's units")
        else:
            self.units_label.setText("axes in the file's units")
        self.feature_row.setVisible(True)


__all__ = ["MetricsPanel", "score_split", "metric_value", "pct"]
