"""The formula panel substitutes the current numbers; random drags never put nan or inf on screen."""

from __future__ import annotations

import re

import numpy as np
import pyqtgraph as pg
import pytest


from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from bceviz.engine.losses import (
    LossSpec,
    entropy,
    grad_from_logits,
    loss_from_logits,
)
from bceviz.gui.panels.formula import FormulaPanel
from bceviz.gui.panels.loss_curve import LossCurvePanel
from bceviz.gui.panels.samples import ROW_HALF, SamplesPanel
from bceviz.gui.widgets import num
from bceviz.model.state import AppState
from tests.gui.drag import click, drag

NOT_A_NUMBER = re.compile(r"\b(nan|inf|infinity)\b", re.IGNORECASE)


@pytest.fixture
def state() -> AppState:
    return AppState()


@pytest.fixture
def panel(show_panel, state) -> FormulaPanel:
    return show_panel(FormulaPanel, state, size=(600, 400))


def plain(panel: FormulaPanel) -> str:
    """The text as the user reads it (HTML tags and entities removed)."""
    text = re.sub(r"<[^>]+>", "", panel.text.text())
    return text.replace("&nbsp;", " ")


def test_handle_formula_substitutes_numbers(panel, state):
    state.set_probe(p=0.9, y=1.0)
    panel.flush()
    text = plain(panel)
    assert "L = −[y·ln p + (1 − y)·ln(1 − p)]" in text
    assert "= −[1 · ln 0.9 + 0 · ln 0.1]" in text
    assert "= 0.1054 nats" in text
    assert "∂L/∂z = p − y = 0.9 − 1 = −0.1" in text


def test_bits(panel, state):
    state.set_probe(p=0.9, y=1.0)
    state.set_view(units="bits")
    panel.flush()
    assert "0.152 bits" in plain(panel)


def test_smoothing_shows_smoothed_target(panel, state):
    state.set_probe(p=0.9, y=1.0)
    state.set_spec(label_smoothing=0.2)
    panel.flush()
    text = plain(panel)
    assert "yₛ = y·(1 − ε) + ε/2 = 1 · (1 − 0.2) + 0.1 = 0.9" in text
    assert "−[0.9 · ln 0.9 + 0.1 · ln 0.1]" in text
    value = float(loss_from_logits(state.probe_z, 1.0, state.spec))
    assert f"= {num(value)} nats" in text
    assert f"H(yₛ) = {num(float(entropy(0.9)))}" in text
    assert "p − yₛ = 0.9 − 0.9 = " in text


def test_pos_weight_and_focal(panel, state):
    state.set_probe(p=0.9, y=1.0)
    spec = LossSpec(label_smoothing=0.0, pos_weight=3.0, focal_gamma=2.0, focal_alpha=0.25)
    state.set_spec(spec)
    panel.flush()
    text = plain(panel)
    assert "CE = −[w·y·ln p + (1 − y)·ln(1 − p)]" in text
    assert "−[3 · 1 · ln 0.9 + 0 · ln 0.1]" in text
    assert "pt = p·y + (1 − p)(1 − y) = 0.9 · 1 + 0.1 · 0 = 0.9" in text
    assert "αt = α·y + (1 − α)(1 − y) = 0.25 · 1 + 0.75 · 0 = 0.25" in text
    assert "(1 − 0.9)2" in text  # the exponent is a superscript
    loss = float(loss_from_logits(state.probe_z, 1.0, spec))
    grad = float(grad_from_logits(state.probe_z, 1.0, spec))
    assert f"= {num(loss)} nats" in text
    assert num(grad).replace("-", "−") in text


def test_dataset_mean_over_training_points(panel, state):
    state.step(20)
    panel.flush()
    losses = state.point_losses()
    mean = float(np.mean(losses[~state.heldout]))
    n = int(np.count_nonzero(~state.heldout))
    text = plain(panel)
    assert f"(1/{n})" in text
    assert f"{num(mean)} nats" in text
    held = float(np.mean(losses[state.heldout]))
    assert f"held-out ({int(state.heldout.sum())} points): L̄ = {num(held)} nats" in text
    state.set_training(l2=0.1)
    panel.flush()
    assert "objective = L̄ + 0.1/2 · ‖w‖²" in plain(panel)


def test_samples_mean(panel, state):
    text = plain(panel)
    assert "L̄ = −(1/3) [ln 0.7 + ln 0.8 + ln 0.9]" in text
    assert f"= {num(-np.mean(np.log([0.7, 0.8, 0.9])))} nats" in text


def test_screenshot(panel, state, tmp_path):
    state.set_spec(label_smoothing=0.1, focal_gamma=2.0)
    panel.flush()
    path = tmp_path / "formula.png"
    assert panel.grab().save(str(path))


# ---------------------------------------------------------------- all three panels


def visible_texts(widget: QWidget) -> list[str]:
    texts = [label.text() for label in widget.findChildren(QLabel)]
    for view in widget.findChildren(pg.GraphicsView):
        for item in view.scene().items():
            if isinstance(item, pg.TextItem):
                texts.append(item.textItem.toPlainText())
            elif isinstance(item, pg.AxisItem):
                texts.append(item.labelText)
                for level in item._tickLevels or []:
                    texts.extend(str(label) for _pos, label in level)
    return texts


def test_random_drags_never_show_nan_or_inf(qtbot, state):
    host = QWidget()
    row = QHBoxLayout(host)
    curve, samples, formula = LossCurvePanel(state), SamplesPanel(state), FormulaPanel(state)
    for widget in (curve, samples, formula):
        row.addWidget(widget)
    qtbot.addWidget(host)
    host.resize(1500, 420)
    host.show()
    qtbot.waitExposed(host)
    rng = np.random.default_rng(7)
    moved = {"probe": 0, "samples": 0}
    state.events.probe.connect(lambda **_: moved.__setitem__("probe", moved["probe"] + 1))
    state.events.samples.connect(lambda **_: moved.__setitem__("samples", moved["samples"] + 1))
    specs = [LossSpec(), LossSpec(label_smoothing=0.9), LossSpec(pos_weight=0.0),
             LossSpec(pos_weight=50.0, focal_gamma=5.0, focal_alpha=1.0),
             LossSpec(focal_gamma=0.5, focal_alpha=0.0)]
    for step in range(36):
        if step % 6 == 0:
            state.set_spec(specs[(step // 6) % len(specs)])
            state.set_view(units="bits" if step % 12 else "nats",
                           curve_axis="z" if step % 18 else "p",
                           show_mse=bool(step % 12), show_hinge=True)
        for panel in (curve, samples, formula):
            panel.flush()
        kind = step % 3
        if kind == 0:
            hx, hy = curve._handle_xy
            lo, hi = curve._x_range
            target = rng.uniform(lo - 0.3 * (hi - lo), hi + 0.3 * (hi - lo))
            drag(curve.plot, (hx, hy), (target, rng.uniform(-5, 50)), steps=4)
        elif kind == 1:
            drag(curve.strip, (0.5, state.probe_y), (0.5, rng.uniform(-0.3, 1.3)), steps=4)
        else:
            i = int(rng.integers(len(state.samples_p)))
            start = (float(state.samples_p[i]), i + (0.5 - float(state.samples_y[i])) * 2 * ROW_HALF)
            end = (rng.uniform(-0.5, 1.5), start[1] + rng.choice([0.0, rng.uniform(-1, 1)]))
            drag(samples.strip, start, end, steps=4)
            if step % 5 == 0:
                click(samples.strip, start)
        if step == 20:
            state.set_probe(p=1.0)  # clipped by the state
            state.set_samples([0.0, 1.0, 0.5], [1.0, 0.0, 0.3], ref_p=[1.0, 0.0, 1e-300])
        for panel in (curve, samples, formula):
            panel.flush()
        for text in visible_texts(host):
            assert not NOT_A_NUMBER.search(text), text
    assert moved["probe"] > 20 and moved["samples"] > 10  # the drags really dragged
    # Training with a learning rate that diverges: still nothing non-finite on screen.
    state.set_training(lr=1e6)
    state.step(30)
    formula.flush()
    for text in visible_texts(host):
        assert not NOT_A_NUMBER.search(text), text


def test_theme_switches_restyle_all_three(qtbot, state):
    from bceviz.gui import theme

    panels = [LossCurvePanel(state), SamplesPanel(state), FormulaPanel(state)]
    for panel in panels:
        qtbot.addWidget(panel)
        panel.resize(500, 350)
        panel.show()
    manager = theme.manager()
    try:
        manager.set_dark(True)
        manager.set_presentation(True)
        for panel in panels:
            assert panel.palette().window().color().name() == theme.DARK.background
            panel.flush()
        assert panel.text.font().pointSizeF() > theme.DARK.font_pt  # presentation: larger
    finally:
        manager.set_presentation(False)
        manager.set_dark(False)
    assert panels[0].palette().window().color().name() == theme.LIGHT.background


def test_the_formula_text_keeps_one_document_and_the_reader_place(qtbot):
    """Each new text replaces the last in the one document: none pile up, and the result
    is what laying the HTML out afresh gives."""
    from PySide6.QtGui import QTextDocument

    from bceviz.gui.panels.formula import FormulaText

    view = FormulaText()
    qtbot.addWidget(view)
    view.resize(300, 120)
    view.show()
    for k in range(200):
        view.setText("".join(f"<p>line {i} of text {k}</p>" for i in range(30)))
    assert len(view.findChildren(QTextDocument)) <= 1
    assert "text 199" in view.text() and "text 199" in view.document().toPlainText()
    assert "text 198" not in view.document().toPlainText()
    html = ('<p style="margin: 0"><b>L</b> = −[y·ln p + (1 − y)·ln(1 − p)]</p>'
            '<table><tr><td>p</td><td>0.73</td></tr></table><p><i>z</i> = 1.5</p>')
    view.setText(html)
    fresh = QTextDocument()
    fresh.setDefaultFont(view.document().defaultFont())
    fresh.setDocumentMargin(view.document().documentMargin())
    fresh.setHtml(html)
    assert view.document().toHtml() == fresh.toHtml()
    view.setText("".join(f"<p>line {i} of text 199</p>" for i in range(30)))
    bar = view.verticalScrollBar()
    assert bar.maximum() > 0
    bar.setValue(bar.maximum() // 2)
    kept = bar.value()
    view.setText(view.text().replace("text 199", "text 200"))
    assert bar.value() == kept  # a reader scrolled down keeps their place
