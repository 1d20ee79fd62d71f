"""The imbalance lab: make positives rare and compare plain BCE, weighted BCE and focal loss.

Reads from the state: the points, labels and held-out mask, the generator
settings (``dataset``: positive share and size), ``spec``, ``features``, the
L1/L2 strengths (``training``), ``threshold`` and the current model
(``proba_of``).

Writes to the state: ``generate(pos_fraction=..., n=...)`` (the slider and
the size box regenerate the synthetic data), ``set_spec`` (the suggested
pos_weight = n_neg / n_pos with one click; three buttons switching between
plain BCE, weighted BCE and focal loss) and ``set_weights`` ("Fit now": a
short Newton fit of the current loss, so the boundary moves at once).

The comparison table fits each variant for ``FIT_STEPS`` Newton steps on the
same training points (``engine.logistic.fit_logistic``) and scores it on the
held-out split (the training split when the held-out one lacks a class) at
the current threshold: recall, precision, AP and accuracy, beside the current
model and the all-negative baseline, whose accuracy is the share of
negatives. At 1 % positives that baseline scores 99 % while finding no
positive at all: accuracy alone misleads. Fits run again only when the data,
the feature map, the penalty or the label smoothing change (automatically up
to ``AUTO_FIT_MAX`` training points; above, on request).
"""

from __future__ import annotations

import time
from typing import Optional

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QButtonGroup,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSlider,
    QSpinBox,
    QWidget,
)

from bceviz.engine.losses import LossSpec
from bceviz.gui.steady import SteadyLabel
from bceviz.gui import format as fmt
from bceviz.gui import theme as _theme
from bceviz.gui.panels.base import Panel
from bceviz.gui.safety import plain_label, shown
from bceviz.gui.widgets import text_style
from bceviz.model import imbalance as _imbalance
from bceviz.model.imbalance import (
    AUTO_FIT_MAX,
    FIT_STEPS,
    FOCAL_GAMMA,
    VARIANTS,
    spec_variant,
    variant_spec,
)
from bceviz.model.state import MAX_POINTS, StateError

#: Changes that come faster than this (a dragged point, a slider being moved) refit
#: the three variants only once they stop for this long (seconds): three 30-step
#: Newton fits take ~10 ms at 1,000 points, too much for every frame of a drag.
FIT_SETTLE_S = 0.3
#: The positive-share slider, in whole percent.
MIN_PERCENT, MAX_PERCENT = 1, 50
#: Below this width (px) the panel is compact: short labels, the suggestion wraps. At
#: 1280 × 800 it shares the screen with eight other panels and is about 365 px wide.
COMPACT_BELOW = 560
#: The smallest size of the compact layout (the panel never asks for more; the rows scroll).
COMPACT_MIN = (300, 120)
#: Compact texts: column headers, row names, loss buttons.
SHORT_HEADERS = {"recall": "rec.", "precision": "prec.", "ap": "AP", "accuracy": "acc.",
                 "ece": "ECE"}
SHORT_ROWS = {"plain": "plain", "weighted": "weighted", "focal": "focal",
              "current": "current", "baseline": "all-neg."}
ROWS = (*VARIANTS, "current", "baseline")
COLUMNS = (
    ("recall", "recall", "Share of the positives found (at the threshold)"),
    ("precision", "precision", "Share of the points called positive that are positive"),
    ("ap", "AP", "Average precision: how well the scores rank positives first "
                 "(independent of the threshold)"),
    ("accuracy", "accuracy",
     "Share of all points classified right: misleads when positives are rare"),
    ("ece", "ECE", "Expected calibration error (10 bins): how far P(y=1) is from the observed "
                   "share of positives; weighting the positives inflates P(y=1)"),
)


def pct(value: float, digits: int = 3) -> str:
    return f"{fmt.num(100.0 * value, digits)} %"


class ImbalancePanel(Panel):
    """Positive-share slider, suggested pos_weight, loss variants and their side-by-side scores."""

    title = "Imbalance lab"
    panel_id = "imbalance"
    listens = ("data", "weights", "spec", "settings", "features", "threshold")
    min_interval_ms = 33  # 30 redraws a second: the fits are cached below the GUI
    compact_below = COMPACT_BELOW
    compact_min = COMPACT_MIN

    def __init__(self, state, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent)
        self._updating = False
        self._fits_key = None
        self._fits_dirty = True
        self._data_version = 0
        self._fit_burst = False
        self._last_fit_change = -1e9
        #: True while the table scores fits made before the latest changes (during a drag).
        self.fits_stale = False
        self._settle_timer = QTimer(self)
        self._settle_timer.setSingleShot(True)
        self._settle_timer.timeout.connect(self._on_settled)
        #: Per-variant fit: spec, w, b and the probabilities on the evaluation split.
        self.fits: dict[str, dict] = {}
        #: The numbers in the table: row -> column -> value (None = undefined).
        self.rows: dict[str, dict] = {}
        # The rows scroll when the dock is shorter (or narrower) than they need, never
        # drawn over each other (a dock shares a 720-line screen, presentation type).
        outer = self.vbox(self, margins=0)
        scroll = self.scroll = QScrollArea(self)
        scroll.setObjectName("imbalance_scroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        outer.addWidget(scroll)
        body = QWidget(scroll)
        body.setObjectName("imbalance_body")
        scroll.setWidget(body)
        layout = self.vbox(body, margins=4)

        row = QHBoxLayout()
        row.addWidget(QLabel("Positives"))
        self.share_slider = QSlider(Qt.Orientation.Horizontal)
        self.share_slider.setObjectName("pos_share_slider")
        self.share_slider.setRange(MIN_PERCENT, MAX_PERCENT)
        self.share_slider.setTracking(False)  # regenerate on release, preview while dragging
        self.share_slider.setToolTip("Share of positives in the generated data (1 % to 50 %)")
        self.share_slider.valueChanged.connect(self._on_share)
        self.share_slider.sliderMoved.connect(self._preview_share)
        row.addWidget(self.share_slider, 1)
        self.share_label = QLabel("")
        self.share_label.setObjectName("share_label")
        self.share_label.setMinimumWidth(150)
        row.addWidget(self.share_label)
        self.of_label = QLabel("of")
        row.addWidget(self.of_label)
        self.n_box = QSpinBox()
        self.n_box.setObjectName("n_points")
        self.n_box.setRange(20, MAX_POINTS)
        self.n_box.setSingleStep(100)
        self.n_box.setKeyboardTracking(False)
        self.n_box.setToolTip("Number of generated points: rare positives need many points")
        self.n_box.valueChanged.connect(self._on_n)
        row.addWidget(self.n_box)
        self.points_label = QLabel("points")
        row.addWidget(self.points_label)
        layout.addLayout(row)
        self.source_label = plain_label(QLabel(""))  # the source is a file name: plain text
        self.source_label.setObjectName("source_label")
        self.source_label.setWordWrap(True)
        layout.addWidget(self.source_label)

        row = QHBoxLayout()
        self.suggest_label = QLabel("")
        self.suggest_label.setObjectName("suggest_label")
        row.addWidget(self.suggest_label, 1)
        self.apply_button = QPushButton("Apply")
        self.apply_button.setObjectName("apply_pos_weight")
        self.apply_button.setToolTip("Set pos_weight to n_neg / n_pos of the training points")
        self.apply_button.clicked.connect(self.apply_suggested)
        row.addWidget(self.apply_button)
        layout.addLayout(row)

        row = QHBoxLayout()
        row.addWidget(QLabel("Loss"))
        self.variant_group = QButtonGroup(self)
        self.variant_buttons: dict[str, QRadioButton] = {}
        for i, variant in enumerate(VARIANTS):
            button = QRadioButton()
            button.setObjectName(f"variant_{variant}")
            self.variant_group.addButton(button, i)
            self.variant_buttons[variant] = button
            button.clicked.connect(lambda _=False, v=variant: self.set_variant(v))
            row.addWidget(button)
        self.variant_buttons["plain"].setText("plain BCE")
        self.variant_buttons["weighted"].setText("weighted BCE")
        self.variant_buttons["focal"].setText(f"focal (γ = {fmt.num(FOCAL_GAMMA, 2)})")
        self.variant_buttons["plain"].setToolTip("pos_weight 1, no focal term")
        self.variant_buttons["weighted"].setToolTip(
            "pos_weight = n_neg / n_pos: both classes weigh the same in total")
        self.variant_buttons["focal"].setToolTip(
            "Focal loss: (1 − p_t)^γ down-weights the points the model already gets right")
        row.addStretch(1)
        self.fit_button = QPushButton(f"Fit now ({FIT_STEPS} Newton steps)")
        self.fit_button.setObjectName("fit_now")
        self.fit_button.setToolTip("Put the model at a short Newton fit of the current loss on the "
                                   "training points, so the boundary and the metrics move at once")
        self.fit_button.clicked.connect(self.fit_now)
        row.addWidget(self.fit_button)
        layout.addLayout(row)

        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(2)
        self.table_title = QLabel("")
        self.table_title.setObjectName("table_title")
        # its own line above the table: in the first column it set that column's width
        self.table_title.setWordWrap(True)
        layout.addWidget(self.table_title)
        self.grid = grid
        self.headers: dict[str, QLabel] = {}
        for j, (key, text, tip) in enumerate(COLUMNS, start=1):
            header = QLabel(text)
            header.setToolTip(tip)
            header.setAlignment(Qt.AlignmentFlag.AlignRight)
            grid.addWidget(header, 0, j)
            self.headers[key] = header
        #: Row name labels and value labels by (row, column key).
        self.row_labels: dict[str, QLabel] = {}
        self.cells: dict[tuple[str, str], SteadyLabel] = {}
        for i, row_name in enumerate(ROWS, start=1):
            name = QLabel("")
            name.setObjectName(f"row_{row_name}")
            self.row_labels[row_name] = name
            grid.addWidget(name, i, 0)
            for j, (key, _, tip) in enumerate(COLUMNS, start=1):
                # steady: the numbers change on every redraw while training, and a
                # label that resized would lay the whole scrolled table out again
                cell = SteadyLabel(template="0.0000" if key == "ece" else "88.8 %")
                cell.setObjectName(f"cell_{row_name}_{key}")
                cell.setAlignment(Qt.AlignmentFlag.AlignRight)
                cell.setToolTip(tip)
                self.cells[(row_name, key)] = cell
                grid.addWidget(cell, i, j, Qt.AlignmentFlag.AlignRight)
        self.row_labels["current"].setToolTip("The model as it is now in the other panels")
        self.row_labels["baseline"].setToolTip("A 'model' that says negative for everyone")
        layout.addLayout(grid)
        row = QHBoxLayout()
        self.refit_button = QPushButton("Compare again")
        self.refit_button.setObjectName("refit")
        self.refit_button.setToolTip(f"Refit the three variants ({FIT_STEPS} Newton steps each)")
        self.refit_button.clicked.connect(self.refit)
        self.refit_button.setVisible(False)
        row.addWidget(self.refit_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.lesson_label = QLabel("")
        self.lesson_label.setObjectName("lesson_label")
        self.lesson_label.setWordWrap(True)
        layout.addWidget(self.lesson_label)
        layout.addStretch(1)
        self.compact = False
        self.apply_theme(_theme.current())
        self.refresh()

    # ------------------------------------------------------------------ compact layout
    def set_compact(self, on: bool) -> None:
        """Short labels and a wrapped suggestion (compact) or the full texts."""
        on = bool(on)
        if on == getattr(self, "compact", on):  # (not built yet: nothing to switch)
            return
        self.compact = on
        self.share_label.setMinimumWidth(70 if on else 150)
        self.points_label.setVisible(not on)
        self.suggest_label.setWordWrap(on)
        self.variant_buttons["plain"].setText("plain" if on else "plain BCE")
        self.variant_buttons["weighted"].setText("weighted" if on else "weighted BCE")
        self.variant_buttons["focal"].setText(f"focal γ={fmt.num(FOCAL_GAMMA, 2)}" if on
                                              else f"focal (γ = {fmt.num(FOCAL_GAMMA, 2)})")
        self.fit_button.setText("Fit now" if on else f"Fit now ({FIT_STEPS} Newton steps)")
        for key, text, _ in COLUMNS:
            self.headers[key].setText(SHORT_HEADERS[key] if on else text)
        self.grid.setHorizontalSpacing(6 if on else 10)
        self._draw()

    def apply_theme(self, theme: _theme.Theme) -> None:
        self._theme = theme
        for label in (self.source_label, self.table_title):
            text_style(label, theme.muted)
        self._dirty = True

    # ------------------------------------------------------------------ events
    def on_event(self, name: str, **info) -> None:
        if name == "data":
            self._data_version += 1
        if name in ("data", "settings", "features", "spec"):
            self._fits_dirty = True
            now = time.perf_counter()
            self._fit_burst = now - self._last_fit_change < FIT_SETTLE_S
            self._last_fit_change = now

    def _guard(self, action, *args, **kwargs) -> bool:
        try:
            action(*args, **kwargs)
        except StateError as exc:
            self.state.set_status(str(exc), "error")
            return False
        return True

    def _preview_share(self, percent: int) -> None:
        n = int(self.n_box.value())
        n_pos = min(max(int(round(n * percent / 100.0)), 1), n - 1)
        self.share_label.setText(f"{percent} % → {n_pos:,} positives")

    def _on_share(self, percent: int) -> None:
        if not self._updating:
            self._guard(self.state.generate, pos_fraction=percent / 100.0)

    def _on_n(self, n: int) -> None:
        if not self._updating:
            self._guard(self.state.generate, n=int(n))

    # ------------------------------------------------------------------ actions
    def apply_suggested(self) -> None:
        """Set pos_weight to n_neg / n_pos of the training points."""
        self._guard(self.state.set_spec, pos_weight=self.state.balanced_pos_weight())

    def set_variant(self, variant: str) -> None:
        """Switch the loss to plain BCE, weighted BCE (suggested pos_weight) or focal loss."""
        spec = variant_spec(self.state.spec, variant, self.state.balanced_pos_weight())
        self._guard(self.state.set_spec, spec)

    def fit_now(self) -> None:
        """Put the model at a ``FIT_STEPS``-step Newton fit of the current loss."""
        st = self.state
        if st.n_train == 0:
            st.set_status("Nothing to fit: there are no training points", "warning")
            return
        fit = self._fit(st.spec)
        if self._guard(st.set_weights, fit.w, fit.b):
            st.set_status(f"Weights set to a {FIT_STEPS}-step Newton fit of the current loss; "
                          "press Space to keep training", "info")

    def refit(self) -> None:
        self._fits_key = None
        self._fits_dirty = True
        self._compute_fits(force=True)
        self._draw()

    # ------------------------------------------------------------------ computing
    def _fit(self, spec: LossSpec):
        return _imbalance.fit_variant(self.state, spec)

    def _compute_fits(self, force: bool = False) -> None:
        self._fits_dirty = False
        self.fits = _imbalance.comparison_fits(self.state, force=force)

    def _score_rows(self) -> None:
        self.rows, self.eval_name, self.eval_n, self.eval_pos = _imbalance.score_rows(
            self.state, self.fits)

    # ------------------------------------------------------------------ drawing
    def refresh(self) -> None:
        self.fits_stale = False
        if self._fits_dirty:
            wait = FIT_SETTLE_S - (time.perf_counter() - self._last_fit_change)
            if self._fit_burst and wait > 0 and self.fits:
                # in the middle of a drag: keep the fits, score them on the data as it is
                self.fits_stale = True
                self._settle_timer.start(int(1000 * wait) + 1)
            else:
                self._compute_fits()
        self._score_rows()
        self._draw()

    def _on_settled(self) -> None:
        self._dirty = True
        self.flush()

    def _draw(self) -> None:
        st = self.state
        theme = self._theme
        ds = st.dataset
        self._updating = True
        try:
            self.share_slider.setValue(int(round(min(max(ds.pos_fraction * 100, MIN_PERCENT),
                                                     MAX_PERCENT))))
            self.n_box.setValue(int(ds.n))
        finally:
            self._updating = False
        n_pos_all = int(np.count_nonzero(st.y >= 0.5))
        share = n_pos_all / st.n_points if st.n_points else 0.0
        self.share_label.setText(f"{pct(share)} ({n_pos_all:,})" if self.compact
                                 else f"{pct(share)}: {n_pos_all:,} positives")
        if st.data_source != "generated":
            self.source_label.setText(f"Data now: {shown(st.data_source)}. The slider and the "
                                      "size box "
                                      "switch to generated data.")
        else:
            self.source_label.setText("")
        self.source_label.setVisible(st.data_source != "generated")

        y_train = st.y_train >= 0.5
        n_pos, n_neg = int(np.count_nonzero(y_train)), int(np.count_nonzero(~y_train))
        if n_pos and n_neg:
            suggested = st.balanced_pos_weight()
            self.suggest_label.setText(
                f"Suggested pos_weight = n_neg / n_pos = {n_neg:,} / {n_pos:,} = "
                f"{fmt.num(suggested, 4)}   (now {fmt.num(st.spec.pos_weight, 4)})")
            self.suggest_label.setToolTip("")
            self.apply_button.setEnabled(True)
        else:
            self.suggest_label.setText("The training points hold one class only: no pos_weight "
                                       "to suggest")
            self.apply_button.setEnabled(False)

        variant = spec_variant(st.spec)
        self.variant_group.setExclusive(False)
        for name, button in self.variant_buttons.items():
            button.setChecked(name == variant)
        self.variant_group.setExclusive(True)

        pos_weight = st.balanced_pos_weight()
        names = {
            "plain": "plain BCE",
            "weighted": f"weighted BCE (pos_weight {fmt.num(pos_weight, 3)})",
            "focal": f"focal loss (γ = {fmt.num(FOCAL_GAMMA, 2)})",
            "current": "current model",
            "baseline": "all-negative baseline",
        }
        for row_name, label in self.row_labels.items():
            label.setText(SHORT_ROWS[row_name] if self.compact else names[row_name])
            if self.compact:
                label.setToolTip(names[row_name])
        for row_name in ROWS:
            values = self.rows.get(row_name)
            for key, _, tip in COLUMNS:
                cell = self.cells[(row_name, key)]
                if values is None:
                    cell.setText("…" if row_name in VARIANTS and not self.fits else "—")
                    continue
                value = values[key]
                if value is None:
                    cell.setText("—")
                    cell.setToolTip({"precision": "undefined: nothing is predicted positive",
                                     "ece": "the baseline gives no probabilities"}.get(
                                         key, "needs both classes"))
                else:  # ECE is a distance between probabilities, the rest are shares
                    cell.setText(fmt.num(value, 3) if key == "ece" else pct(value))
                    cell.setToolTip(tip)
        base = self.rows.get("baseline")
        misleading = base is not None and base["accuracy"] >= 0.9
        strong = {(row_name, "accuracy"): False for row_name in ROWS}
        strong[("baseline", "recall")] = False
        if misleading:  # the numbers that mislead, in bold red
            strong[("baseline", "accuracy")] = strong[("baseline", "recall")] = True
        for key, on in strong.items():  # (palette and font, not a style sheet: see text_style)
            text_style(self.cells[key], theme.pos if on else None, bold=on)
        text_style(self.row_labels["current"], italic=True)

        manual = st.n_train > AUTO_FIT_MAX
        self.refit_button.setVisible(manual)
        title = (f"on {self.eval_name} ({getattr(self, 'eval_n', 0):,} points, "
                 f"{getattr(self, 'eval_pos', 0):,} positive) at t = {fmt.num(st.threshold, 3)}")
        if self.compact:
            self.table_title.setText(f"{self.eval_name}\nt = {fmt.num(st.threshold, 3)}")
            self.table_title.setToolTip(title)
        else:
            self.table_title.setText(title)
        lines = []
        if self.fits_stale:
            lines.append("The three fits are redone when the points stop moving.")
        if not self.fits and st.n_train:
            lines.append(f"More than {AUTO_FIT_MAX:,} training points: press 'Compare again' to "
                         "fit the three variants.")
        if misleading:
            lines.append(f"Saying 'negative' to everyone is {pct(base['accuracy'])} accurate and "
                         "finds no positive: with rare positives read recall, precision and AP, "
                         "not accuracy.")
        aps = [self.rows[v]["ap"] for v in VARIANTS
               if v in self.rows and self.rows[v]["ap"] is not None]
        if len(aps) == len(VARIANTS) and max(aps) - min(aps) < 0.05:
            lines.append("AP hardly differs between the losses: weighting mostly shifts the "
                         "probabilities (as a lower threshold would) rather than ranking better.")
        weighted = self.rows.get("weighted")
        plain = self.rows.get("plain")
        if weighted and plain and weighted["ece"] > plain["ece"] + 0.05:
            lines.append("Weighting buys recall with calibration: its P(y=1) overstates the risk "
                         "(ECE column; the reliability diagram shows it).")
        if self.eval_name == "training" and st.heldout.any():
            lines.append("The held-out split lacks a class, so the table scores the training "
                         "points.")
        if getattr(self, "eval_pos", 0) and self.eval_pos < 10:
            lines.append(f"Only {self.eval_pos} positives are scored: add points for steadier "
                         "numbers.")
        self.lesson_label.setText("\n".join(lines))


__all__ = ["ImbalancePanel", "variant_spec", "spec_variant", "FIT_STEPS", "FOCAL_GAMMA"]
