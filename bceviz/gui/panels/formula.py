"""The formula panel: the BCE formula with today's numbers substituted, as selectable rich text.

Reads from the state: the loss-curve handle (``probe_z``, ``probe_p``,
``probe_y``), ``spec`` (smoothing, pos_weight, focal γ/α change the formula
itself, not only its value), ``view.units``, the model (``trainer.w``,
``trainer.b``, ``features``, ``training.l1``/``l2``), the points
(``point_losses()``, ``y``, ``heldout``) and the samples (``samples_p``,
``samples_y``). Writes nothing.

Three blocks: the handle's loss and its gradient ∂L/∂z, the mean over the
training points of the current model (with the held-out mean and the
penalty), and the samples panel's mean. Plain HTML in a read-only text
browser (:class:`FormulaText`): no LaTeX, selectable, wraps at any dock width,
scrolls when the dock is short.
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QTextCursor
from PySide6.QtWidgets import QFrame, QTextBrowser, QWidget

from bceviz.engine import logistic as _logistic
from bceviz.engine.losses import (
    NATS_PER_BIT,
    entropy,
    loss_from_logits,
)
from bceviz.gui import theme as _theme
from bceviz.gui.panels.base import Panel
from bceviz.model import figures as _figures
from bceviz.gui.widgets import apply_palette, fmt_prob, label_color, num, signed
from bceviz.model.state import AppState

#: The samples block writes every term out up to this many samples.
MAX_SAMPLE_TERMS = 6
#: The model's formula shows at most this many weighted features.
MAX_MODEL_TERMS = 4


class FormulaText(QTextBrowser):
    """The formula's text: HTML the panel builds, read-only, selectable, scrolling.

    Not a word-wrapped QLabel in a scroll area: every new text there asks the
    scroll area for a new layout, and a rich-text label answers its size hints
    by laying the document out at several widths (about 3 ms a change here, on
    every step of a scrubbed timeline). A text browser lays its document out
    once, at its own width. ``text()`` is the HTML last set, as a QLabel's.
    """

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self._html = ""
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.setUndoRedoEnabled(False)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setLineWrapMode(QTextBrowser.LineWrapMode.WidgetWidth)
        self.document().setDocumentMargin(6)

    def text(self) -> str:
        """The HTML shown."""
        return self._html

    def setText(self, html: str) -> None:  # noqa: N802 (QLabel's name)
        if html == self._html:
            return
        self._html = html
        bar = self.verticalScrollBar()
        keep = bar.value()  # a reader scrolled down keeps their place
        # The whole text replaced in one edit of the one document: its layout runs once.
        # setHtml would empty the document first (its scroll bar goes, the view widens,
        # the text is laid out again, the bar comes back: three layouts a change), and a
        # new document per change would pile up (each is the view's child until it goes).
        cursor = QTextCursor(self.document())
        cursor.beginEditBlock()
        cursor.select(QTextCursor.SelectionType.Document)
        cursor.insertHtml(html)
        cursor.endEditBlock()
        bar.setValue(min(keep, bar.maximum()))


def _n(value: float, digits: int = 4) -> str:
    return signed(num(value, digits))


def _sigmoid_pair(z: float) -> tuple[float, float]:
    """(σ(z), 1 − σ(z)) without cancellation."""
    tail = math.log1p(math.exp(-abs(z)))
    return math.exp(-(max(-z, 0.0) + tail)), math.exp(-(max(z, 0.0) + tail))


class FormulaPanel(Panel):
    """BCE written out with the current numbers, for the handle, the data set and the samples."""

    title = "Formula"
    panel_id = "formula"
    listens = ("probe", "spec", "view", "data", "weights", "samples", "features", "settings",
               "scenario", "scrub")
    #: False while a stage hides its answer (the window's Reveal sets it).
    revealed = True

    def set_revealed(self, on: bool) -> None:
        """Show or hide the handle's loss and gradient values (a practice problem's answer)."""
        if bool(on) != self.revealed:
            self.revealed = bool(on)
            self._dirty = True
            self.flush()
    min_interval_ms = 60  # training emits weights every frame; the text need not follow faster

    def __init__(self, state: AppState, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent)
        layout = self.vbox(self)
        self.text = FormulaText()
        self.text.setObjectName("formula_text")
        layout.addWidget(self.text)
        self.apply_theme(_theme.current())
        self._dirty = True
        self.flush()

    def apply_theme(self, theme: _theme.Theme) -> None:
        font = QFont()
        font.setPointSizeF(theme.font_pt * 1.05)
        self.text.setFont(font)
        apply_palette(self, theme)

    # ---------------------------------------------------------------- refresh
    def refresh(self) -> None:
        theme = _theme.current()
        # Only the sections of panels the stage shows (None: the workbench, all of them).
        shown = self.state.scenario_panels
        shows = (lambda *ids: True) if shown is None else (lambda *ids: bool(set(ids) & set(shown)))
        blocks = [self._handle_html(theme) if shows("loss_curve") else "",
                  self._dataset_html(theme) if shows("data", "surface", "training_curves",
                                                     "metrics", "imbalance") else "",
                  self._samples_html(theme) if shows("samples") else ""]
        self.text.setText("".join(b for b in blocks if b))

    def _units(self) -> tuple[str, float]:
        units = self.state.view.units
        return units, (NATS_PER_BIT if units == "bits" else 1.0)

    def _value(self, nats: float) -> str:
        """A loss in the chosen units; in bits also says where the number came from."""
        units, scale = self._units()
        if units == "bits":
            return f"{_n(nats)} nats = <b>{_n(nats / scale)} bits</b>"
        return f"<b>{_n(nats)} nats</b>"

    @staticmethod
    def _head(title: str, theme) -> str:
        return (f'<p style="margin:8px 0 2px 0"><span style="color:{theme.muted}">'
                f'{title}</span></p>')

    @staticmethod
    def _line(html: str, indent: bool = False) -> str:
        pad = "1.2em" if indent else "0"
        return f'<p style="margin:1px 0 1px {pad}">{html}</p>'

    # ----------------------------------------------------------- the handle
    def _handle_html(self, theme) -> str:
        state, spec = self.state, self.state.spec
        r = _figures.probe_readout(state)  # the same object the loss-curve panel reads
        hide = not self.revealed  # a practice problem: the reader works the numbers out first
        y, p, q = r.y, r.p, r.q
        eps, pw, gamma, alpha = (spec.label_smoothing, spec.pos_weight, spec.focal_gamma,
                                 spec.focal_alpha)
        ys, ce, loss, grad = r.y_smoothed, r.cross_entropy, r.loss, r.dl_dz
        color = label_color(theme, y).name()
        ps, qs = fmt_prob(p, q), fmt_prob(q, p)
        t = "yₛ" if eps > 0 else "y"
        tv = _n(ys) if eps > 0 else f'<span style="color:{color}">{_n(y)}</span>'
        one_minus_t = _n(1.0 - ys)

        out = [self._head("The handle on the loss curve", theme)]
        if eps > 0:
            out.append(self._line(
                f"yₛ = y·(1 − ε) + ε/2 = <span style=\"color:{color}\">{_n(y)}</span>"
                f" · (1 − {_n(eps)}) + {_n(eps / 2)} = <b>{_n(ys)}</b>"))
        weight, weight_num = ("w·", f"{_n(pw)} · ") if pw != 1.0 else ("", "")
        name = "CE" if spec.is_focal else "L"
        out.append(self._line(
            f"<b>{name}</b> = −[{weight}{t}·ln p + (1 − {t})·ln(1 − p)]"
            + (f" &nbsp; <span style=\"color:{theme.muted}\">(w = pos_weight)</span>"
               if pw != 1.0 else "")))
        # "1 − 9.4e-14" is a sum: it needs its parentheses after ln
        lp, lq = (f"({v})" if " " in v else v for v in (ps, qs))
        substituted = f"−[{weight_num}{tv} · ln {lp} + {one_minus_t} · ln {lq}]"
        if spec.is_focal:
            out.append(self._line(f"= {substituted} = {_n(ce)} nats", indent=True))
            pt = p * ys + q * (1.0 - ys)
            out.append(self._line(
                f"p<sub>t</sub> = p·{t} + (1 − p)(1 − {t}) = {ps} · {_n(ys)} + {qs} · "
                f"{one_minus_t} = {_n(pt)}"))
            factors, numbers = [], []
            if alpha is not None:
                at = alpha * ys + (1.0 - alpha) * (1.0 - ys)
                out.append(self._line(
                    f"α<sub>t</sub> = α·{t} + (1 − α)(1 − {t}) = {_n(alpha)} · {_n(ys)} + "
                    f"{_n(1 - alpha)} · {one_minus_t} = {_n(at)}"))
                factors.append("α<sub>t</sub>")
                numbers.append(_n(at))
            if gamma != 0.0:
                factors.append("(1 − p<sub>t</sub>)<sup>γ</sup>")
                numbers.append(f"(1 − {_n(pt)})<sup>{_n(gamma, 3)}</sup>")
            out.append(self._line(
                f"<b>L</b> = {' · '.join(factors + ['CE'])} = {' · '.join(numbers + [_n(ce)])}"
                f" = {self._value(loss)}"))
        else:
            out.append(self._line(f"= {substituted}", indent=True))
            out.append(self._line(f"= {'<b>?</b> (press Reveal, Ctrl+R)' if hide else self._value(loss)}",
                                  indent=True))
        if eps > 0 and pw == 1.0 and not spec.is_focal:
            floor = float(entropy(ys))
            out.append(self._line(
                f'<span style="color:{theme.muted}">never below H(yₛ) = {_n(floor)} nats, '
                f"reached at p = yₛ</span>"))

        # Gradient with respect to the logit.
        units, scale = self._units()
        in_units = f" &nbsp;({_n(grad / scale)} bits per unit of z)" if units == "bits" else ""
        if not spec.is_focal and pw == 1.0:
            out.append(self._line(
                f"<b>∂L/∂z</b> = p − {t} = {ps} − {_n(ys)} = "
                f"<b>{'?' if hide else _n(grad)}</b>{'' if hide else in_units}"))
        elif not spec.is_focal:
            out.append(self._line(
                f"<b>∂L/∂z</b> = (1 − {t})·p − w·{t}·(1 − p) = {one_minus_t} · {ps} − "
                f"{_n(pw)} · {_n(ys)} · {qs} = <b>{_n(grad)}</b>{in_units}"))
        else:
            out.append(self._line(
                f"<b>∂L/∂z</b> = {'α<sub>t</sub>·' if alpha is not None else ''}"
                f"[(1 − p<sub>t</sub>)<sup>γ</sup>·∂CE/∂z + CE·∂(1 − p<sub>t</sub>)<sup>γ</sup>/∂z]"
                f" = <b>{_n(grad)}</b>{in_units}"))
        return "".join(out)

    # ------------------------------------------------------------- data set
    def _model_html(self) -> str:
        state = self.state
        w, b = state.shown_weights()  # the timeline's record when scrubbed
        w = np.asarray(w, dtype=np.float64)
        try:
            names = _logistic.feature_names(state.features)
        except (ValueError, AttributeError):
            names = [f"f{i + 1}" for i in range(len(w))]
        terms = []
        for i, (wi, name) in enumerate(zip(w, names)):
            if i >= MAX_MODEL_TERMS:
                terms.append(f"… ({len(w) - MAX_MODEL_TERMS} more)")
                break
            sign = "−" if wi < 0 and terms else ("+" if terms else "")
            value = abs(wi) if terms else wi
            terms.append(f"{sign} {_n(value, 3)}·{name}".strip())
        bias = f" {'−' if b < 0 else '+'} {_n(abs(b), 3)}"
        return f"p<sub>i</sub> = σ({' '.join(terms)}{bias})"

    def _dataset_html(self, theme) -> str:
        state = self.state
        out = [self._head("The data set: mean over the training points", theme)]
        try:
            losses = np.asarray(state.point_losses(), dtype=np.float64)
        except Exception as exc:  # noqa: BLE001 - a model mid-change: say so, never garbage
            return "".join(out + [self._line(f"(not available: {exc})")])
        heldout = np.asarray(state.heldout, dtype=bool)
        labels = np.asarray(state.y, dtype=np.float64)
        train = ~heldout
        n = int(np.count_nonzero(train))
        out.append(self._line(self._model_html()))
        if n == 0 or not np.all(np.isfinite(losses)):
            out.append(self._line("no training points" if n == 0
                                  else "the model's losses are not finite: reset the weights"))
            return "".join(out)
        lt, yt = losses[train], labels[train]
        total = float(np.sum(lt))
        mean = total / n
        pos = yt >= 0.5
        n_pos = int(np.count_nonzero(pos))
        out.append(self._line(
            "<b>L̄</b> = (1/N) Σ<sub>i</sub> −[y<sub>i</sub>·ln p<sub>i</sub> + "
            "(1 − y<sub>i</sub>)·ln(1 − p<sub>i</sub>)]"))
        out.append(self._line(
            f"= (1/{n}) · [{_n(float(np.sum(lt[pos])))} <span style=\"color:{theme.pos}\">"
            f"(y = 1, {n_pos} points)</span> + {_n(float(np.sum(lt[~pos])))} "
            f"<span style=\"color:{theme.neg}\">(y = 0, {n - n_pos} points)</span>]", indent=True))
        out.append(self._line(f"= (1/{n}) · {_n(total)} = {self._value(mean)}", indent=True))
        worst = int(np.argmax(lt))
        share = float(lt[worst]) / total if total > 0 else 0.0
        index = int(np.flatnonzero(train)[worst])
        out.append(self._line(
            f'<span style="color:{theme.muted}">largest term: point {index + 1} '
            f"(y = {_n(float(yt[worst]), 3)}), L = {_n(float(lt[worst]))}: "
            f"{_n(100 * share, 3)}% of the sum</span>"))
        training = state.training
        w = np.asarray(state.shown_weights()[0], dtype=np.float64)
        penalty = 0.5 * training.l2 * float(np.dot(w, w)) + training.l1 * float(np.sum(np.abs(w)))
        if training.l2 > 0 or training.l1 > 0:
            parts = []
            if training.l2 > 0:
                parts.append(f"{_n(training.l2, 3)}/2 · ‖w‖²")
            if training.l1 > 0:
                parts.append(f"{_n(training.l1, 3)} · ‖w‖₁")
            out.append(self._line(
                f"objective = L̄ + {' + '.join(parts)} = {_n(mean)} + {_n(penalty)} = "
                f"<b>{_n(mean + penalty)}</b> nats"))
        n_held = int(np.count_nonzero(heldout))
        if n_held:
            held = float(np.mean(losses[heldout]))
            out.append(self._line(f"held-out ({n_held} points): L̄ = {self._value(held)}"))
        return "".join(out)

    # -------------------------------------------------------------- samples
    def _samples_html(self, theme) -> str:
        state = self.state
        p = np.asarray(state.samples_p, dtype=np.float64)
        y = np.asarray(state.samples_y, dtype=np.float64)
        n = len(p)
        if n == 0:
            return ""
        pc = np.clip(p, 1e-12, 1.0 - 1e-12)
        losses = loss_from_logits(np.log(pc) - np.log1p(-pc), y, state.spec)
        mean = float(np.mean(losses))
        out = [self._head("The samples panel (classifier A)", theme)]
        if n <= MAX_SAMPLE_TERMS and not state.spec.is_focal and state.spec.pos_weight == 1.0 \
                and state.spec.label_smoothing == 0.0:
            terms = []
            for pi, yi in zip(p, y):
                if yi == 1.0:
                    terms.append(f"ln {fmt_prob(pi)}")
                elif yi == 0.0:
                    terms.append(f"ln(1 − {fmt_prob(pi)})")
                else:
                    terms.append(f"{_n(yi, 3)}·ln {fmt_prob(pi)} + "
                                 f"{_n(1 - yi, 3)}·ln(1 − {fmt_prob(pi)})")
            out.append(self._line(f"<b>L̄</b> = −(1/{n}) [{' + '.join(terms)}]"))
            out.append(self._line(f"= {self._value(mean)}", indent=True))
        else:
            out.append(self._line(f"<b>L̄</b> = (1/{n}) Σ L<sub>i</sub> = {self._value(mean)}"))
        return "".join(out)
