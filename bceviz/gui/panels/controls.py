"""The controls panel: every loss, model, optimizer and data-set setting, live mid-training.

Reads from the state: ``spec``, ``training``, ``features``, ``dataset``,
``running`` (and redraws its widgets when they change elsewhere: a scenario
or session load). Writes: ``set_spec``, ``set_training``, ``set_features``,
``generate``, ``set_running``, ``step``, ``reset_weights``. Nothing here
resets the weights unless the user presses Reset.
"""

from __future__ import annotations

import math
from typing import Callable, Optional

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSlider,
    QSpinBox,
    QToolButton,
    QWidget,
)

from bceviz.engine import datasets as _datasets
from bceviz.engine import logistic as _logistic
from bceviz.gui.panels.base import Panel
from bceviz.gui.safety import plain_label, shown
from bceviz.model.session import MAX_SEED
from bceviz.model.state import MAX_POINTS, OPTIMIZER_LABELS, OPTIMIZERS, StateError

FEATURE_LABELS = {
    "linear": "linear (x1, x2)",
    "product": "x1, x2, x1·x2",
    "poly2": "poly 2",
    "poly3": "poly 3",
    "poly4": "poly 4",
    "poly5": "poly 5",
    "sin": "sin / cos",
}
DATASET_LABELS = {
    "blobs": "separable blobs",
    "overlap": "overlapping blobs",
    "xor": "XOR",
    "circles": "circles",
    "moons": "moons",
    "spirals": "spirals",
}
SLIDER_STEPS = 1000


class ValueControl(QWidget):
    """A slider and a spin box showing one number; linear or log scale.

    ``log=True`` maps the slider logarithmically between ``lo`` and ``hi``
    (both > 0); with ``zero=True`` the slider's left end is exactly 0 (for
    penalties that are usually off). ``valueChanged(float)`` fires on user
    changes only; ``set_value`` never emits.
    """

    valueChanged = Signal(float)

    def __init__(self, lo: float, hi: float, *, log: bool = False, zero: bool = False,
                 decimals: int = 3, tooltip: str = "", parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.lo, self.hi, self.log, self.zero = lo, hi, log, zero
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setRange(0, SLIDER_STEPS)
        self.slider.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.spin = QDoubleSpinBox(self)
        self.spin.setDecimals(decimals)
        self.spin.setRange(0.0 if zero else lo, hi)
        self.spin.setKeyboardTracking(False)
        self.spin.setStepType(QDoubleSpinBox.StepType.AdaptiveDecimalStepType)
        self.spin.setButtonSymbols(QDoubleSpinBox.ButtonSymbols.NoButtons)
        self.spin.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.spin.setFixedWidth(self.spin.fontMetrics().horizontalAdvance("0.00000") + 10)
        self.slider.setMinimumWidth(40)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.spin)
        if tooltip:
            for w in (self, self.slider, self.spin):
                w.setToolTip(tooltip)
        self._value = self._from_pos(0)
        self.slider.valueChanged.connect(self._on_slider)
        self.spin.valueChanged.connect(self._on_spin)

    # slider position <-> value
    def _from_pos(self, pos: int) -> float:
        if self.log:
            if self.zero:
                if pos <= 0:
                    return 0.0
                frac = (pos - 1) / (SLIDER_STEPS - 1)
            else:
                frac = pos / SLIDER_STEPS
            return float(10 ** (math.log10(self.lo) + frac * (math.log10(self.hi) - math.log10(self.lo))))
        return self.lo + (self.hi - self.lo) * pos / SLIDER_STEPS

    def _to_pos(self, value: float) -> int:
        if self.log:
            if self.zero and value <= 0:
                return 0
            v = min(max(value, self.lo), self.hi)
            frac = (math.log10(v) - math.log10(self.lo)) / (math.log10(self.hi) - math.log10(self.lo))
            if self.zero:
                return 1 + int(round(frac * (SLIDER_STEPS - 1)))
            return int(round(frac * SLIDER_STEPS))
        v = min(max(value, self.lo), self.hi)
        return int(round((v - self.lo) / (self.hi - self.lo) * SLIDER_STEPS))

    def value(self) -> float:
        return self._value

    def set_value(self, value: float) -> None:
        """Show ``value`` without emitting (the state changed elsewhere)."""
        if value is None or not math.isfinite(value):
            return
        self._value = float(value)
        self.slider.blockSignals(True)
        self.spin.blockSignals(True)
        if not self.slider.isSliderDown():
            pos = self._to_pos(value)
            if pos != self.slider.value():
                self.slider.setValue(pos)
        self.spin.setValue(value)
        self.slider.blockSignals(False)
        self.spin.blockSignals(False)

    def _on_slider(self, pos: int) -> None:
        value = self._from_pos(pos)
        # Round to what the spin box can show, so state and display agree.
        value = round(value, self.spin.decimals()) if not self.log else float(f"{value:.3g}")
        value = min(max(value, self.spin.minimum()), self.spin.maximum())
        self._value = value
        self.spin.blockSignals(True)
        self.spin.setValue(value)
        self.spin.blockSignals(False)
        self.valueChanged.emit(value)

    def _on_spin(self, value: float) -> None:
        self._value = float(value)
        self.slider.blockSignals(True)
        self.slider.setValue(self._to_pos(value))
        self.slider.blockSignals(False)
        self.valueChanged.emit(float(value))


class ControlsPanel(Panel):
    """Loss, model, optimizer and data-set settings plus Play/Step/Reset."""

    title = "Controls"
    panel_id = "controls"
    listens = ("spec", "settings", "features", "running", "scenario", "data")

    def __init__(self, state, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent)
        outer = self.vbox(self, margins=0)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        outer.addWidget(scroll)
        body = QWidget(scroll)
        scroll.setWidget(body)
        layout = self.vbox(body, margins=4)
        layout.setSpacing(4)

        # -- training buttons
        row = QHBoxLayout()
        row.setSpacing(4)
        self.play_button = self._button("Play", "Start or pause training (Space)", self._on_play)
        self.step_button = self._button("Step", "Take one training step (S or →)",
                                        lambda: self._guard(self._on_step))
        self.reset_button = self._button("Reset", "Weights back to zero, history cleared (R)",
                                         lambda: self._guard(self.state.reset_weights))
        for b in (self.play_button, self.step_button, self.reset_button):
            row.addWidget(b)
        layout.addLayout(row)

        # -- loss
        loss_box, form = self._group("Loss")
        self.smoothing = ValueControl(0.0, 0.5, decimals=3,
                                      tooltip="Label smoothing ε: targets become y(1−ε) + ε/2")
        self.smoothing.valueChanged.connect(lambda v: self._guard(self.state.set_spec, label_smoothing=v))
        form.addRow("Smoothing ε", self.smoothing)
        pw_row = QWidget()
        pw_layout = QHBoxLayout(pw_row)
        pw_layout.setContentsMargins(0, 0, 0, 0)
        pw_layout.setSpacing(4)
        self.pos_weight = ValueControl(0.01, 100.0, log=True, decimals=3,
                                       tooltip="pos_weight: multiplies the loss of positive labels")
        self.pos_weight.valueChanged.connect(lambda v: self._guard(self.state.set_spec, pos_weight=v))
        self.balanced_button = QToolButton()
        self.balanced_button.setText("bal.")
        self.balanced_button.setToolTip("Balanced: set pos_weight to n_neg / n_pos of the training points")
        self.balanced_button.clicked.connect(
            lambda: self._guard(lambda: self.state.set_spec(pos_weight=self.state.balanced_pos_weight())))
        pw_layout.addWidget(self.pos_weight, 1)
        pw_layout.addWidget(self.balanced_button)
        form.addRow("pos_weight", pw_row)
        self.gamma = ValueControl(0.0, 5.0, decimals=2,
                                  tooltip="Focal γ: down-weights easy examples by (1 − p_t)^γ; 0 = plain BCE")
        self.gamma.valueChanged.connect(lambda v: self._guard(self.state.set_spec, focal_gamma=v))
        form.addRow("Focal γ", self.gamma)
        alpha_row = QWidget()
        alpha_layout = QHBoxLayout(alpha_row)
        alpha_layout.setContentsMargins(0, 0, 0, 0)
        alpha_layout.setSpacing(4)
        self.alpha_on = QCheckBox("on")
        self.alpha_on.setToolTip("Weight positives by α and negatives by 1 − α (focal α); off = no weighting")
        self.alpha = ValueControl(0.0, 1.0, decimals=2,
                                  tooltip="Focal α: the weight of positive labels (negatives get 1 − α)")
        self.alpha.set_value(0.25)
        self.alpha_on.toggled.connect(lambda _: self._apply_alpha())
        self.alpha.valueChanged.connect(lambda _: self._apply_alpha())
        alpha_layout.addWidget(self.alpha_on)
        alpha_layout.addWidget(self.alpha, 1)
        form.addRow("Focal α", alpha_row)
        layout.addWidget(loss_box)

        # -- model and optimizer
        model_box, form = self._group("Model and training")
        self.features = QComboBox()
        self.features.setToolTip("Feature map: which functions of (x1, x2) the model weighs")
        for kind in _logistic.FEATURE_KINDS:
            self.features.addItem(FEATURE_LABELS.get(kind, kind), kind)
        self.features.currentIndexChanged.connect(
            lambda _: self._guard(self.state.set_features, self.features.currentData()))
        form.addRow("Features", self.features)
        self.optimizer = QComboBox()
        self.optimizer.setToolTip("How the weights are updated each step")
        for name in OPTIMIZERS:
            self.optimizer.addItem(OPTIMIZER_LABELS.get(name, name), name)
        self.optimizer.currentIndexChanged.connect(lambda _: self._guard(self._apply_optimizer))
        form.addRow("Optimizer", self.optimizer)
        self.batch_size = QSpinBox()
        self.batch_size.setRange(1, MAX_POINTS)
        self.batch_size.setValue(_logistic.SGD_DEFAULT_BATCH)
        self.batch_size.setKeyboardTracking(False)
        self.batch_size.setToolTip("Points per SGD step (mini-batch size)")
        self.batch_size.valueChanged.connect(lambda _: self._guard(self._apply_optimizer))
        form.addRow("Batch size", self.batch_size)
        self.lr = ValueControl(1e-4, 10.0, log=True, decimals=4,
                               tooltip="Learning rate: step size of GD/SGD/momentum/Adam (Newton ignores it)")
        self.lr.valueChanged.connect(lambda v: self._guard(self.state.set_training, lr=v))
        form.addRow("Learning rate", self.lr)
        self.l1 = ValueControl(1e-4, 1.0, log=True, zero=True, decimals=4,
                               tooltip="L1 strength λ₁: adds λ₁‖w‖₁ to the objective (pushes weights to exactly 0)")
        self.l1.valueChanged.connect(lambda v: self._guard(self.state.set_training, l1=v))
        form.addRow("L1", self.l1)
        self.l2 = ValueControl(1e-4, 1.0, log=True, zero=True, decimals=4,
                               tooltip="L2 strength λ₂: adds λ₂/2·‖w‖² to the objective (shrinks weights)")
        self.l2.valueChanged.connect(lambda v: self._guard(self.state.set_training, l2=v))
        form.addRow("L2", self.l2)
        self.steps_per_frame = QSpinBox()
        self.steps_per_frame.setRange(1, 1000)
        self.steps_per_frame.setKeyboardTracking(False)
        self.steps_per_frame.setToolTip("Training steps per screen frame (speed of play)")
        self.steps_per_frame.valueChanged.connect(
            lambda v: self._guard(self.state.set_training, steps_per_frame=int(v)))
        form.addRow("Steps / frame", self.steps_per_frame)
        layout.addWidget(model_box)

        # -- data set
        data_box, form = self._group("Data set")
        # Plain text: the source is a file name, which may hold anything (safety module).
        self.source_label = plain_label(QLabel())
        self.source_label.setWordWrap(True)
        self.source_label.setObjectName("data_source")
        italic = self.source_label.font()
        italic.setItalic(True)
        self.source_label.setFont(italic)
        form.addRow(self.source_label)
        self.kind = QComboBox()
        self.kind.setToolTip("Shape of the generated data set")
        for kind in _datasets.DATASET_KINDS:
            self.kind.addItem(DATASET_LABELS.get(kind, kind), kind)
        self.kind.currentIndexChanged.connect(
            lambda _: self._guard(self.state.generate, kind=self.kind.currentData()))
        form.addRow("Kind", self.kind)
        self.n_points = QSpinBox()
        self.n_points.setRange(2, MAX_POINTS)
        self.n_points.setKeyboardTracking(False)
        self.n_points.setSingleStep(50)
        self.n_points.setToolTip("Number of points to generate")
        self.n_points.valueChanged.connect(lambda v: self._guard(self.state.generate, n=int(v)))
        form.addRow("Points", self.n_points)
        self.noise = ValueControl(0.0, 1.0, decimals=2, tooltip="Spread of the points around their shape")
        self.noise.valueChanged.connect(lambda v: self._guard(self.state.generate, noise=v))
        form.addRow("Noise", self.noise)
        self.pos_fraction = ValueControl(0.01, 0.99, decimals=2,
                                         tooltip="Share of positive points: below 0.5 makes positives rare")
        self.pos_fraction.valueChanged.connect(lambda v: self._guard(self.state.generate, pos_fraction=v))
        form.addRow("Positives", self.pos_fraction)
        self.label_noise = ValueControl(0.0, 0.5, decimals=2, tooltip="Share of labels flipped at random")
        self.label_noise.valueChanged.connect(lambda v: self._guard(self.state.generate, label_noise=v))
        form.addRow("Label noise", self.label_noise)
        self.heldout = ValueControl(0.0, 0.9, decimals=2,
                                    tooltip="Share of points held out of training (hollow markers)")
        self.heldout.valueChanged.connect(lambda v: self._guard(self.state.generate, heldout_fraction=v))
        form.addRow("Held out", self.heldout)
        seed_row = QWidget()
        seed_layout = QHBoxLayout(seed_row)
        seed_layout.setContentsMargins(0, 0, 0, 0)
        seed_layout.setSpacing(4)
        self.seed = QSpinBox()
        self.seed.setRange(0, 999_999)
        # Any seed a session may hold, in the width six digits need (the panel stays narrow).
        self.seed.setMinimumWidth(self.seed.minimumSizeHint().width())
        self.seed.setRange(0, MAX_SEED)
        self.seed.setKeyboardTracking(False)
        self.seed.setToolTip("Random seed: the same seed gives the same points")
        self.seed.valueChanged.connect(lambda v: self._guard(self.state.generate, seed=int(v)))
        self.regenerate_button = QPushButton("Regenerate")
        self.regenerate_button.setToolTip("Draw a fresh sample with the next seed (weights are kept)")
        self.regenerate_button.clicked.connect(
            lambda: self._guard(self.state.generate, seed=self.state.dataset.seed + 1))
        seed_layout.addWidget(self.seed, 1)
        seed_layout.addWidget(self.regenerate_button)
        form.addRow("Seed", seed_row)
        layout.addWidget(data_box)
        layout.addStretch(1)

        for combo in (self.features, self.optimizer, self.kind):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(8)
        # The scroll area only scrolls vertically: never narrower than the content.
        self.setMinimumWidth(body.minimumSizeHint().width()
                             + scroll.verticalScrollBar().sizeHint().width() + 2)
        self.refresh()

    # ---------------------------------------------------------------- helpers
    def _group(self, title: str) -> tuple[QGroupBox, QFormLayout]:
        box = QGroupBox(title)
        form = QFormLayout(box)
        form.setContentsMargins(4, 4, 4, 4)
        form.setHorizontalSpacing(6)
        form.setVerticalSpacing(3)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        return box, form

    def _button(self, text: str, tip: str, slot: Callable) -> QPushButton:
        button = QPushButton(text)
        button.setMinimumWidth(10)
        button.setToolTip(tip)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space stays play/pause
        button.clicked.connect(slot)
        return button

    def _guard(self, fn: Callable, *args, **kwargs) -> None:
        """Apply a change; a refused one is reported and the widgets snap back."""
        try:
            fn(*args, **kwargs)
        except StateError as exc:
            self.state.set_status(str(exc), "error")
            self.schedule()

    def _on_play(self) -> None:
        self._guard(self.state.set_running, not self.state.running)

    def _on_step(self) -> None:
        if self.state.running:
            self.state.set_running(False)
        self.state.step(1)

    def _apply_alpha(self) -> None:
        alpha = self.alpha.value() if self.alpha_on.isChecked() else None
        self.alpha.setEnabled(self.alpha_on.isChecked())
        self._guard(self.state.set_spec, focal_alpha=alpha)

    def _apply_optimizer(self) -> None:
        name = self.optimizer.currentData()
        batch = int(self.batch_size.value()) if name == "sgd" else None
        self.batch_size.setEnabled(name == "sgd")
        self.lr.setEnabled(name != "newton")
        self.state.set_training(optimizer=name, batch_size=batch)

    def apply_theme(self, theme) -> None:
        from bceviz.gui.widgets import apply_palette

        apply_palette(self, theme)
        # the shared palette paints every colour group alike: greyed-out
        # (inapplicable) settings must still look disabled
        from PySide6.QtGui import QColor, QPalette

        palette = self.palette()
        for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text,
                     QPalette.ColorRole.ButtonText):
            palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(theme.muted))
        self.setPalette(palette)

    # ---------------------------------------------------------------- refresh
    def on_event(self, name: str, **info):
        # A dragged or relabelled point changes nothing shown here (the data set's
        # settings and source stay): no redraw, ~60 times a second during a drag.
        if name == "data" and info.get("kind") in ("move", "label"):
            return False
        return None

    def refresh(self) -> None:
        """Show the state's values (signals blocked: showing is not changing)."""
        st = self.state
        spec, tr, ds = st.spec, st.training, st.dataset
        self.play_button.setText("Pause" if st.running else "Play")
        self.smoothing.set_value(spec.label_smoothing)
        self.pos_weight.set_value(spec.pos_weight)
        self.gamma.set_value(spec.focal_gamma)
        with _Blocked(self.alpha_on):
            self.alpha_on.setChecked(spec.focal_alpha is not None)
        if spec.focal_alpha is not None:
            self.alpha.set_value(spec.focal_alpha)
        self.alpha.setEnabled(spec.focal_alpha is not None)
        _set_combo(self.features, st.features)
        _set_combo(self.optimizer, tr.optimizer)
        if tr.batch_size is not None:
            with _Blocked(self.batch_size):
                _set_spin(self.batch_size, tr.batch_size)
        self.batch_size.setEnabled(tr.optimizer == "sgd")
        self.lr.set_value(tr.lr)
        self.lr.setEnabled(tr.optimizer != "newton")
        self.l1.set_value(tr.l1)
        self.l2.set_value(tr.l2)
        with _Blocked(self.steps_per_frame):
            _set_spin(self.steps_per_frame, tr.steps_per_frame)
        _set_combo(self.kind, ds.kind)
        with _Blocked(self.n_points):
            _set_spin(self.n_points, ds.n)
        self.noise.set_value(ds.noise)
        self.pos_fraction.set_value(ds.pos_fraction)
        self.label_noise.set_value(ds.label_noise)
        self.heldout.set_value(ds.heldout_fraction)
        with _Blocked(self.seed):
            _set_spin(self.seed, ds.seed)
        if st.data_source == "generated":
            self.source_label.hide()
        else:
            from pathlib import Path

            name = shown(Path(st.data_source).name) if st.data_source else "a file"
            self.source_label.setText(
                f"The {st.n_points:,} points come from {name}; the settings below "
                "generate new ones.")
            self.source_label.show()


class _Blocked:
    """``with _Blocked(widget):`` set a value without emitting its signals."""

    def __init__(self, widget: QWidget) -> None:
        self.widget = widget

    def __enter__(self):
        self._old = self.widget.blockSignals(True)
        return self.widget

    def __exit__(self, *exc) -> None:
        self.widget.blockSignals(self._old)


def _set_spin(spin: QSpinBox, value) -> None:
    """Show a whole number in a spin box, clamped to its range (Qt's are 32-bit: a larger
    value would raise OverflowError in every refresh)."""
    spin.setValue(int(min(max(int(value), spin.minimum()), spin.maximum())))


def _set_combo(combo: QComboBox, data) -> None:
    index = combo.findData(data)
    if index >= 0 and index != combo.currentIndex():
        with _Blocked(combo):
            combo.setCurrentIndex(index)


__all__ = ["ControlsPanel", "ValueControl", "FEATURE_LABELS", "DATASET_LABELS"]
