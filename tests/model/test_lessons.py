"""The lesson scenarios: each one validates, applies, and what its caption claims holds in numbers.

Every number a caption states is checked here against the state the lesson
puts the app in (the same engine functions the panels draw with), so a
caption cannot drift from what the app shows.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from bceviz.engine import metrics
from bceviz.engine.losses import (
    FRAMEWORK_CEILINGS,
    NATS_PER_BIT,
    LossSpec,
    entropy,
    grad_from_logits,
    hinge_from_logits,
    hinge_grad_from_logits,
    loss_from_logits,
    squared_error_grad_from_logits,
)
from bceviz.model.scenarios import (
    PANEL_IDS,
    apply_scenario,
    list_scenarios,
    load_scenario,
    scenarios_dir,
)
from bceviz.model.state import AppState

#: The lessons in teaching order (the Scenario menu lists them so, after "default").
LESSONS = (
    "confident-wrong", "surprise-bits", "practice-problem", "mle-likelihood",
    "gradient-p-minus-y", "bce-vs-mse", "bce-vs-hinge",
    "xor-features", "xor-linear", "xor-product", "separable-l2", "soft-labels",
    "numerical-stability", "label-smoothing", "focal-loss", "class-weights",
)


def lesson(scenario_id: str) -> AppState:
    state = AppState()
    apply_scenario(state, load_scenario(scenario_id))
    return state


def caption(scenario_id: str) -> str:
    return load_scenario(scenario_id)["caption"]


def probe_loss(state: AppState) -> float:
    return float(loss_from_logits(state.probe_z, state.probe_y, state.spec))


def probe_grad(state: AppState) -> float:
    return float(grad_from_logits(state.probe_z, state.probe_y, state.spec))


def sample_losses(state: AppState, p=None, spec=None) -> np.ndarray:
    p = np.clip(state.samples_p if p is None else np.asarray(p, float), 1e-12, 1 - 1e-12)
    return loss_from_logits(np.log(p) - np.log1p(-p), state.samples_y,
                            state.spec if spec is None else spec)


def w_norm(state: AppState) -> float:
    return float(np.linalg.norm(state.trainer.w))


def train_to(state: AppState, steps: int) -> None:
    state.step(steps - state.trainer.steps)


# --------------------------------------------------------------------------- all lessons
def test_every_bundled_scenario_validates_and_applies():
    ids = [sid for sid, _ in list_scenarios()]
    files = sorted(p.stem for p in scenarios_dir().glob("*.json"))
    assert sorted(ids) == files  # no file is skipped as unreadable
    for sid in ids:
        state = lesson(sid)
        assert state.scenario_id == sid
        assert state.caption.strip() and state.scenario_title.strip()


def test_lessons_are_listed_in_teaching_order_after_default():
    ids = [sid for sid, _ in list_scenarios()]
    assert ids[0] == "default"
    positions = [ids.index(sid) for sid in LESSONS]
    assert positions == sorted(positions)
    orders = [load_scenario(sid)["order"] for sid in ids]
    assert len(set(orders)) == len(orders), "two scenarios share an order: the menu order is by id"


@pytest.mark.parametrize("sid", LESSONS)
def test_lesson_shows_a_short_caption_and_known_panels(sid):
    sc = load_scenario(sid)
    assert 80 <= len(sc["caption"]) <= 460, len(sc["caption"])
    assert sc["panels"] is None or set(sc["panels"]) <= set(PANEL_IDS)
    assert not sc["autoplay"]  # a lesson waits for the reader


# --------------------------------------------------------------------------- one by one
def test_confident_wrong_log_penalty():
    st = lesson("confident-wrong")
    assert "4.61" in caption("confident-wrong")
    assert st.probe_p == pytest.approx(0.01) and st.probe_y == 1.0
    assert probe_loss(st) == pytest.approx(-math.log(0.01)) and round(probe_loss(st), 2) == 4.61
    losses = sample_losses(st)
    assert np.round(losses, 3).tolist() == [0.105, 0.511, 4.605]
    assert losses[2] > losses[0] + losses[1]  # one confident mistake outweighs the others
    # every halving of p adds ln 2, without bound
    z = np.log([0.01, 0.005, 0.0025])
    steps = np.diff(loss_from_logits(z - np.log1p(-np.exp(z)), 1.0))
    assert steps == pytest.approx([math.log(2)] * 2, rel=1e-2)
    assert st.scenario_panels == ("loss_curve", "samples", "formula")


def test_surprise_in_bits_and_nats():
    st = lesson("surprise-bits")
    assert st.view.units == "bits"
    assert probe_loss(st) / NATS_PER_BIT == pytest.approx(1.0)
    bits = sample_losses(st) / NATS_PER_BIT
    assert bits == pytest.approx([1.0, 2.0, 3.0])
    assert bits.mean() == pytest.approx(2.0)
    assert round(NATS_PER_BIT, 3) == 0.693


def test_practice_problem_is_0_1625():
    st = lesson("practice-problem")
    assert st.probe_p == pytest.approx(0.85) and st.probe_y == 1.0
    assert round(probe_loss(st), 4) == 0.1625
    assert probe_grad(st) == pytest.approx(-0.15)
    st.set_probe(y=0.0)
    assert round(probe_loss(st), 3) == 1.897
    # the caption asks, it does not answer (the panels hold the answer until Reveal)
    text = caption("practice-problem")
    for answer in ("0.1625", "0.15", "1.897", "1.90"):
        assert answer not in text


def test_mle_classifier_b_is_more_likely_and_has_lower_bce():
    st = lesson("mle-likelihood")
    a, b, y = st.samples_p, st.samples_ref_p, st.samples_y
    assert a.tolist() == [0.7, 0.8, 0.9] and b.tolist() == [0.8, 0.8, 0.8]
    like_a = float(np.prod(a ** y * (1 - a) ** (1 - y)))
    like_b = float(np.prod(b ** y * (1 - b) ** (1 - y)))
    assert round(like_a, 3) == 0.504 and round(like_b, 3) == 0.512 and like_b > like_a
    mean_a, mean_b = sample_losses(st).mean(), sample_losses(st, b).mean()
    assert round(mean_a, 3) == 0.228 and round(mean_b, 3) == 0.223 and mean_b < mean_a
    assert -math.log(like_a) / 3 == pytest.approx(mean_a)  # mean BCE = −ln(likelihood) / n


def test_gradient_is_p_minus_y():
    st = lesson("gradient-p-minus-y")
    p, y = st.probe_p, st.probe_y
    assert p == pytest.approx(0.3) and y == 1.0
    assert probe_grad(st) == pytest.approx(p - y) == pytest.approx(-0.7)
    grad_p = probe_grad(st) / (p * (1 - p))
    assert round(grad_p, 2) == -3.33
    # every point: dL/dz = p − y, so the data panel's arrows have length ∝ |p − y|
    assert np.allclose(st.point_grads(), st.proba_of(st.X) - st.y)
    assert st.view.show_grad_arrows and np.any(st.trainer.w != 0)
    z = np.linspace(-30, 30, 601)
    assert np.all(np.abs(grad_from_logits(z, 1.0)) <= 1.0)  # never steeper than 1


def test_mse_saturates_where_bce_pushes():
    st = lesson("bce-vs-mse")
    assert st.view.show_mse
    g_bce = probe_grad(st)
    g_mse = float(squared_error_grad_from_logits(st.probe_z, st.probe_y))
    assert g_bce == pytest.approx(-0.98)
    assert round(g_mse, 3) == -0.038
    assert round(100 * g_mse / g_bce, 1) == 3.9
    p = np.linspace(1e-4, 1 - 1e-4, 30001)
    g = np.abs(squared_error_grad_from_logits(np.log(p) - np.log1p(-p), 1.0))
    assert p[np.argmax(g)] == pytest.approx(1 / 3, abs=1e-3)
    assert g[0] < 1e-3 and g[-1] < 1e-3


def test_hinge_ignores_the_easy_example_bce_does_not():
    st = lesson("bce-vs-hinge")
    assert st.view.show_hinge and st.view.curve_axis == "z"
    z = st.probe_z
    assert round(z, 2) == 2.94
    assert float(hinge_from_logits(z, 1.0)) == 0.0 and float(hinge_grad_from_logits(z, 1.0)) == 0.0
    assert round(probe_loss(st), 3) == 0.051 and probe_grad(st) == pytest.approx(-0.05)
    assert float(hinge_from_logits(0.9, 1.0)) > 0 and float(hinge_grad_from_logits(0.9, 1.0)) < 0


def test_soft_label_entropy_floor():
    st = lesson("soft-labels")
    assert st.probe_y == 0.7 and st.probe_p == pytest.approx(0.7)
    floor = float(entropy(0.7))
    assert round(floor, 3) == 0.611
    assert probe_loss(st) == pytest.approx(floor)
    assert abs(probe_grad(st)) < 1e-12
    p = np.linspace(0.001, 0.999, 999)
    curve = loss_from_logits(np.log(p) - np.log1p(-p), 0.7)
    assert curve.min() >= floor - 1e-12 and p[np.argmin(curve)] == pytest.approx(0.7)
    assert float(entropy(1.0)) == 0.0


def test_numerical_stability_probe_and_framework_caps():
    st = lesson("numerical-stability")
    assert st.view.curve_axis == "z" and st.view.show_ceilings
    assert st.probe_z == -30.0 and 5e-14 < st.probe_p < 2e-13
    assert probe_loss(st) == pytest.approx(30.0)
    assert round(FRAMEWORK_CEILINGS["keras"], 1) == 16.1
    assert round(FRAMEWORK_CEILINGS["sklearn"], 1) == 36.0
    assert FRAMEWORK_CEILINGS["pytorch"] == 100.0
    assert float(loss_from_logits(-1e6, 1.0)) == pytest.approx(1e6)  # from logits: no cap


def test_xor_linear_is_stuck_at_ln2_and_x1x2_solves_it():
    st = lesson("xor-features")
    assert st.features == "linear"
    train_to(st, 1000)
    assert st.summary()["train_loss"] == pytest.approx(math.log(2), abs=1e-6)
    st.set_features("product")
    st.step(1000)
    assert st.summary()["train_loss"] < 0.1 < math.log(2)
    assert st.summary()["train_accuracy"] > 0.95
    # the two halves on their own
    assert lesson("xor-linear").features == "linear"
    assert lesson("xor-product").features == "product"


def test_separable_weights_escape_unless_l2():
    st = lesson("separable-l2")
    assert st.training.l2 == 0.0
    train_to(st, 1000)
    at_1000 = w_norm(st)
    train_to(st, 2000)
    growth = w_norm(st) - at_1000
    assert 0.8 < growth < 1.2  # about +1 per doubling of the steps
    assert st.summary()["train_loss"] < 1e-3
    st.set_training(l2=0.01)
    st.step(1000)
    assert round(w_norm(st), 1) == 2.9
    bounded = w_norm(st)
    st.step(2000)
    assert abs(w_norm(st) - bounded) < 1e-6  # and stays there


def test_label_smoothing_pushes_back_and_bounds_the_weights():
    st = lesson("label-smoothing")
    assert st.spec.label_smoothing == 0.2 and st.probe_p == pytest.approx(0.99)
    assert probe_grad(st) == pytest.approx(0.99 - 0.9)
    assert float(grad_from_logits(st.probe_z, 1.0, LossSpec())) == pytest.approx(-0.01)
    train_to(st, 1000)
    assert round(w_norm(st), 2) == 1.46
    train_to(st, 3000)
    assert round(w_norm(st), 2) == 1.46
    st.set_spec(label_smoothing=0.0)
    st.step(1000)
    first = w_norm(st)
    st.step(1000)
    assert first > 3 and w_norm(st) > first + 0.5  # climbs again


def test_focal_loss_shrinks_easy_examples_most():
    st = lesson("focal-loss")
    assert st.spec.focal_gamma == 2.0
    plain = sample_losses(st, spec=LossSpec())
    focal = sample_losses(st)
    assert st.samples_p.tolist() == [0.95, 0.6, 0.2]
    assert round(plain[0], 3) == 0.051 and round(focal[0], 5) == 0.00013
    assert plain[0] / focal[0] == pytest.approx(400)
    assert round(plain[2], 2) == 1.61 and round(focal[2], 2) == 1.03
    assert focal[2] / plain[2] == pytest.approx(0.64)


def test_class_weighting_trades_precision_for_recall():
    st = lesson("class-weights")

    def heldout_scores():
        X, y = st.X[st.heldout], st.y[st.heldout]
        tn, fp, fn, tp = metrics.confusion(y, st.proba_of(X), st.threshold)
        return tp / (tp + fn), tp / (tp + fp)

    assert np.mean(st.y >= 0.5) == pytest.approx(0.1)
    st.step(50)
    recall, precision = heldout_scores()
    assert round(recall, 2) == 0.47 and round(precision, 2) == 0.70
    assert st.balanced_pos_weight() == pytest.approx(9.0)
    st.set_spec(pos_weight=st.balanced_pos_weight())  # the 'bal.' button
    st.step(50)
    recall, precision = heldout_scores()
    assert round(recall, 2) == 0.73 and round(precision, 2) == 0.30
