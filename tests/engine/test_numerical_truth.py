"""Numerical truth: one stable BCE implementation behind every number bceviz shows.

* Every module computes BCE from logits through ``bceviz.engine.losses`` (an
  AST scan of the package: no hand-written softplus, log-sigmoid or
  ``a·softplus(z) − b·z``).
* The trainer's loss, objective and gradient equal mpmath's (80 digits) to
  1e-12 relative for logits up to |z| = 745, and on the separable-data lesson.
* Proximal Newton with L1 (and with soft labels) converges to 1e-10 instead of
  stalling on the objective's rounding noise.
* ``LossSurface`` after a far point comes and goes equals a fresh build.
* The framework caps say which prediction dtype they assume, checked against
  scikit-learn's ``log_loss`` in float32 and float64.
"""

from __future__ import annotations

import ast
import json
import math
from pathlib import Path

import mpmath
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sklearn.metrics import log_loss

import bceviz
from bceviz.engine.datasets import make_dataset
from bceviz.engine.logistic import Trainer, fit_logistic, make_features
from bceviz.engine.surface import LossSurface
from bceviz.engine.losses import (
    FRAMEWORK_CEILING_DTYPES,
    FRAMEWORK_CEILINGS,
    SKLEARN_CEILINGS,
    LogitLoss,
    LossSpec,
    bce_sum_coefficients,
    curvature_from_logits,
    framework_ceiling,
    framework_loss_from_probs,
    grad_from_logits,
    loss_from_logits,
    loss_from_surprisals,
    sigmoid_pair,
    smooth_labels,
    softplus_pair,
)

PACKAGE = Path(bceviz.__file__).resolve().parent
REPO = PACKAGE.parent
LOSSES = PACKAGE / "engine" / "losses.py"

# ----------------------------------------------------------------------------
# One implementation: nothing outside losses.py writes BCE from logits by hand

#: Functions that turn a logit into a *probability* through the stable
#: softplus (σ(z) = exp(−softplus(−z))) are not losses; a hand-written
#: softplus whose every use is exponentiated back is allowed (use
#: ``losses.sigmoid_pair`` instead all the same). Everything else is flagged.
_LOG_CALLS = {"log", "log1p", "log2", "log10"}


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def _calls(node: ast.AST) -> list[ast.Call]:
    return [n for n in ast.walk(node) if isinstance(n, ast.Call)]


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    out = {}
    for parent in ast.walk(tree):
        for child in ast.iter_child_nodes(parent):
            out[child] = parent
    return out


def _inside_exp(node: ast.AST, parents) -> bool:
    """True when node sits in the argument of an exp(...) call."""
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.Call) and _name(node.func) == "exp":
            return True
        if isinstance(node, (ast.stmt, ast.FunctionDef)):
            return False
    return False


def _enclosing(node: ast.AST, parents, kinds) -> ast.AST | None:
    while node in parents:
        node = parents[node]
        if isinstance(node, kinds):
            return node
    return None


def _only_exponentiated(call: ast.Call, parents) -> bool:
    """A hand-written softplus used only inside exp(...): a sigmoid, not a loss."""
    if _inside_exp(call, parents):
        return True
    stmt = parents.get(call)
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)):
        return False
    target = stmt.targets[0].id
    scope = _enclosing(stmt, parents, (ast.FunctionDef, ast.AsyncFunctionDef)) or stmt
    uses = [n for n in ast.walk(scope)
            if isinstance(n, ast.Name) and n.id == target and isinstance(n.ctx, ast.Load)]
    return bool(uses) and all(_inside_exp(u, parents) for u in uses)


def _hand_written_bce(source: str) -> list[tuple[int, str]]:
    """(line, what) for every place that computes BCE from logits by hand."""
    tree = ast.parse(source)
    parents = _parents(tree)
    hits: list[tuple[int, str]] = []
    in_place: dict[ast.AST | None, list[tuple[int, str, str]]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _name(node.func)
            args = node.args
            if name in ("logaddexp", "logaddexp2") and not _only_exponentiated(node, parents):
                hits.append((node.lineno, "softplus written as logaddexp(0, z)"))
            if (name == "log1p" and args and isinstance(args[0], ast.Call)
                    and _name(args[0].func) == "exp"
                    and not _only_exponentiated(node, parents)):
                hits.append((node.lineno, "softplus written as log1p(exp(...))"))
            if name in _LOG_CALLS and any(
                "sigmoid" in _name(c.func) or _name(c.func) == "expit"
                for a in args for c in _calls(a)
            ):
                hits.append((node.lineno, "log of a sigmoid"))
            # exp(t, out=t) then log1p(t, out=t): the same softplus, in place.
            out_kw = [k.value for k in node.keywords if k.arg == "out"]
            if (name in ("exp", "log1p") and args and isinstance(args[0], ast.Name)
                    and out_kw and isinstance(out_kw[0], ast.Name)
                    and out_kw[0].id == args[0].id):
                scope = _enclosing(node, parents, (ast.FunctionDef, ast.AsyncFunctionDef))
                in_place.setdefault(scope, []).append((node.lineno, name, args[0].id))
            # LossSpec.coefficients feeds the cancelling a·softplus(z) − b·z.
            if (name == "coefficients" and isinstance(node.func, ast.Attribute)
                    and "spec" in ast.unparse(node.func.value).lower()):
                hits.append((node.lineno, "LossSpec.coefficients (a·softplus(z) − b·z cancels)"))
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub):
            for side in (node.left, node.right):
                if any("softplus" in _name(c.func) for c in _calls(side)):
                    hits.append((node.lineno, "softplus(...) in a difference (cancels)"))
                    break
    for calls in in_place.values():
        exps: dict[str, int] = {}
        for line, name, target in sorted(calls):
            if name == "exp":
                exps.setdefault(target, line)
            elif target in exps:
                hits.append((line, "softplus written as exp then log1p in place"))
    return sorted(set(hits))


def _package_sources() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.resolve() != LOSSES.resolve())


def test_no_module_but_losses_computes_bce_from_logits_by_hand():
    offenders = []
    for path in _package_sources():
        for line, what in _hand_written_bce(path.read_text(encoding="utf-8")):
            offenders.append(f"{path.relative_to(REPO)}:{line}: {what}")
    assert not offenders, (
        "BCE from logits is computed only in bceviz/engine/losses.py; use loss_from_logits, "
        "grad_from_logits, curvature_from_logits, LogitLoss, softplus_pair, sigmoid_pair or "
        "loss_from_surprisals instead of:\n" + "\n".join(offenders)
    )


@pytest.mark.parametrize(
    "source",
    [
        "def f(z, y):\n    return np.logaddexp(0, z) - y * z\n",
        "def f(z, y):\n    return np.maximum(z, 0) - y * z + np.log1p(np.exp(-np.abs(z)))\n",
        "def f(z, y):\n    return -(y * np.log(sigmoid(z)) + (1 - y) * np.log(1 - sigmoid(z)))\n",
        "def f(z, a, b):\n    return a * softplus(z) - b * z\n",
        "def f(z, t):\n    np.abs(z, out=t)\n    np.exp(t, out=t)\n    np.log1p(t, out=t)\n",
        "def f(self, y):\n    a, b = self._spec.coefficients(y)\n",
        "def f(z):\n    tail = np.log1p(np.exp(-np.abs(z)))\n    return np.maximum(z, 0) + tail\n",
    ],
    ids=["logaddexp", "tf-formula", "log-sigmoid", "a-softplus-minus-bz", "in-place",
         "coefficients", "softplus-pair"],
)
def test_the_scan_catches_hand_written_bce(source):
    assert _hand_written_bce(source)


@pytest.mark.parametrize(
    "source",
    [
        "def f(z, y, spec):\n    return loss_from_logits(z, y, spec).mean()\n",
        "def f(z):\n    return np.exp(-np.logaddexp(0.0, -z))\n",
        "def f(z):\n    tail = np.log1p(np.exp(-np.abs(z)))\n"
        "    return np.exp(-(np.maximum(-z, 0) + tail)), np.exp(-(np.maximum(z, 0) + tail))\n",
        "def f(mu):\n    return np.log1p(-np.exp(-mu))\n",
        "def f(z):\n    sp_pos, sp_neg = softplus_pair(z)\n    return sp_neg\n",
    ],
    ids=["calls-losses", "sigmoid-via-logaddexp", "sigmoid-pair", "log1mexp", "softplus-pair"],
)
def test_the_scan_lets_correct_code_through(source):
    assert _hand_written_bce(source) == []


def test_the_pieces_agree_with_loss_from_logits():
    rng = np.random.default_rng(3)
    z = np.concatenate([rng.normal(0, 8, 400), [0.0, 37.0, -37.0, 745.0, -745.0, 1e6, -1e6]])
    y = rng.uniform(0, 1, z.size)
    for spec in (LossSpec(), LossSpec(label_smoothing=0.2, pos_weight=3.0),
                 LossSpec(focal_gamma=2.0, focal_alpha=0.25),
                 LossSpec(label_smoothing=0.1, pos_weight=0.5, focal_gamma=1.5)):
        ref = loss_from_logits(z, y, spec)
        kernel = LogitLoss(y, spec)
        assert np.array_equal(kernel.loss(z), ref)
        assert np.array_equal(kernel.grad(z), grad_from_logits(z, y, spec))
        assert np.array_equal(kernel.curvature(z), curvature_from_logits(z, y, spec))
        total, grad = kernel.loss_sum_and_grad(z.copy(), overwrite=True)
        assert total == kernel.loss_sum(z)
        assert total == pytest.approx(float(ref.sum()), rel=1e-14)
        assert np.array_equal(grad, grad_from_logits(z, y, spec))
        sp_pos, sp_neg = softplus_pair(z)
        ys = smooth_labels(y, spec.label_smoothing)
        np.testing.assert_allclose(loss_from_surprisals(sp_neg, sp_pos, ys, spec), ref,
                                   rtol=1e-15, atol=0)
        np.testing.assert_allclose(
            loss_from_surprisals(sp_neg.copy(), sp_pos.copy(), ys, spec, in_place=True), ref,
            rtol=1e-13, atol=0)
    p, q = sigmoid_pair(np.array([-800.0, -40.0, 0.0, 40.0, 800.0]))
    assert q[3] == pytest.approx(math.exp(-40.0) / (1 + math.exp(-40.0)), rel=1e-15)
    assert p[1] == pytest.approx(math.exp(-40.0) / (1 + math.exp(-40.0)), rel=1e-15)
    assert np.all(p + q <= 1.0 + 1e-16) and p[0] == 0.0 and q[4] == 0.0


def test_sum_coefficients_reproduce_the_summed_loss():
    rng = np.random.default_rng(4)
    z = rng.normal(0, 4, 300)
    y = rng.uniform(0, 1, 300)
    for spec in (LossSpec(), LossSpec(label_smoothing=0.3, pos_weight=2.5)):
        c_pos, c_neg, c_lin = bce_sum_coefficients(spec)
        sp_pos, sp_neg = softplus_pair(z)
        total = (c_pos * (y @ sp_neg) + c_neg * ((1 - y) @ sp_pos)
                 + c_lin * ((y - spec.pos_weight * (1 - y)) @ z))
        assert total == pytest.approx(float(loss_from_logits(z, y, spec).sum()), rel=1e-13)
    with pytest.raises(ValueError, match="focal"):
        bce_sum_coefficients(LossSpec(focal_gamma=2.0))


# ----------------------------------------------------------------------------
# The trainer against mpmath

mpmath.mp.dps = 80


def _mp_truth(X, y, w, b, spec=None):
    """(mean loss, d mean/dw (d,), d mean/db, sum of |dL/dz_i x_ij| / n per column) at 80 digits."""
    spec = LossSpec() if spec is None else spec
    n, d = X.shape
    pw = mpmath.mpf(spec.pos_weight)
    eps = mpmath.mpf(spec.label_smoothing)
    loss = mpmath.mpf(0)
    gw = [mpmath.mpf(0)] * d
    gb = mpmath.mpf(0)
    scale = [mpmath.mpf(0)] * (d + 1)
    for i in range(n):
        z = sum(mpmath.mpf(float(X[i, j])) * mpmath.mpf(float(w[j])) for j in range(d))
        z += mpmath.mpf(float(b))
        ys = mpmath.mpf(float(y[i])) * (1 - eps) + eps / 2
        loss += pw * ys * mpmath.log1p(mpmath.exp(-z)) + (1 - ys) * mpmath.log1p(mpmath.exp(z))
        p = 1 / (1 + mpmath.exp(-z))
        q = 1 / (1 + mpmath.exp(z))  # 1 - p, without cancelling 80 digits away
        g = (1 - ys) * p - pw * ys * q
        for j in range(d):
            gw[j] += g * mpmath.mpf(float(X[i, j]))
            scale[j] += abs(g * mpmath.mpf(float(X[i, j])))
        gb += g
        scale[d] += abs(g)
    return (float(loss / n), np.array([float(v / n) for v in gw]), float(gb / n),
            np.array([float(v / n) for v in scale]))


def separable_points(n=1000, seed=0):
    """n points, half of each class, separated along x1 with every |x1| >= 1."""
    rng = np.random.default_rng(seed)
    y = (np.arange(n) % 2).astype(np.float64)
    x1 = (2.0 * y - 1.0) * (1.0 + rng.exponential(0.4, n))
    x2 = rng.normal(0.0, 1.0, n)
    return np.column_stack([x1, x2]), y


def _check_against_truth(trainer: Trainer, truth, rel=1e-12):
    loss, gw, gb, scale = truth
    assert loss > 0.0
    assert trainer.mean_loss() == pytest.approx(loss, rel=rel, abs=0)
    assert trainer.objective() == pytest.approx(loss, rel=rel, abs=0)  # no penalty here
    assert trainer.history.loss[-1] == pytest.approx(loss, rel=rel, abs=0)
    assert trainer.history.objective[-1] == pytest.approx(loss, rel=rel, abs=0)
    got_w, got_b = trainer.gradient()
    # Each component to 1e-12 of the sum of its terms' sizes (its condition),
    # and the norm (the history's grad_norm) to 1e-12 relative.
    np.testing.assert_array_less(np.abs(got_w - gw), rel * scale[:-1] + 1e-300)
    assert abs(got_b - gb) <= rel * scale[-1]
    norm = math.sqrt(float(gw @ gw) + gb * gb)
    assert trainer.history.grad_norm[-1] == pytest.approx(norm, rel=rel, abs=0)


def _s_for_max_logit(X, limit=745.0):
    return limit / float(np.max(np.abs(X[:, 0])))


@pytest.mark.parametrize("s", [5.0, 20.0, 40.0, "max"], ids=["s5", "s20", "s40", "z745"])
def test_trainer_loss_objective_and_gradient_equal_mpmath(s):
    X, y = separable_points()
    if s == "max":
        s = _s_for_max_logit(X)  # the largest logit is 745: exp(-745) is the last subnormal
    trainer = Trainer(X, y)
    w = np.array([s, 0.0])
    trainer.set_weights(w, 0.0)
    truth = _mp_truth(X, y, w, 0.0)
    _check_against_truth(trainer, truth)
    # The x1 component: every term has the same sign, so it is exact relative to itself.
    assert trainer.gradient()[0][0] == pytest.approx(truth[1][0], rel=1e-12, abs=0)
    # The one-shot fit reports the same objective.
    fit = fit_logistic(X, y, optimizer="gd", steps=0, w0=w, b0=0.0)
    assert fit.objective == pytest.approx(truth[0], rel=1e-12, abs=0)


def test_trainer_matches_mpmath_with_smoothing_and_pos_weight():
    X, y = separable_points(300, seed=1)
    spec = LossSpec(label_smoothing=0.05, pos_weight=4.0)
    trainer = Trainer(X, y, spec)
    w = np.array([30.0, 0.5])
    trainer.set_weights(w, 0.25)
    _check_against_truth(trainer, _mp_truth(X, y, w, 0.25, spec))


def test_trainer_matches_mpmath_after_training_steps():
    # The history written by step(), not only by set_weights.
    X, y = separable_points(400, seed=2)
    trainer = Trainer(X, y, optimizer="gd", lr=2.0, w0=[20.0, 0.0])
    trainer.step(3)
    _check_against_truth(trainer, _mp_truth(X, y, trainer.w, trainer.b))


def _separable_lesson():
    scenario = json.loads((REPO / "resources" / "scenarios" / "separable-l2.json").read_text(
        encoding="utf-8"))
    d = scenario["dataset"]
    assert d["heldout_fraction"] == 0.0  # every point trains
    X, y = make_dataset(d["kind"], d["n"], noise=d["noise"], pos_fraction=d["pos_fraction"],
                        label_noise=d["label_noise"], seed=d["seed"])
    return scenario, make_features(X, scenario["model"]["features"]), y


def test_separable_lesson_reports_the_true_loss():
    scenario, F, y = _separable_lesson()
    # Newton pushes the weights out until the mean loss is ~1e-13, the logits 26..135.
    fit = fit_logistic(F, y, steps=60, tol=0.0)
    truth = _mp_truth(F, y, fit.w, fit.b)
    assert truth[0] < 1e-11
    assert fit.objective == pytest.approx(truth[0], rel=1e-12, abs=0)
    assert fit.history.loss[-1] == pytest.approx(truth[0], rel=1e-12, abs=0)
    # The lesson's own settings (gradient descent at lr 2), as the app trains it.
    model = scenario["model"]
    trainer = Trainer(F, y, optimizer=model["optimizer"], lr=model["lr"], l2=model["l2"])
    trainer.step(400)
    _check_against_truth(trainer, _mp_truth(F, y, trainer.w, trainer.b))
    # --report's stable mean (loss_from_logits) and the trainer agree.
    z = F @ trainer.w + trainer.b
    assert trainer.mean_loss() == pytest.approx(float(loss_from_logits(z, y).mean()), rel=1e-14)


def test_mean_loss_at_the_current_weights_is_the_cached_value():
    X, y = separable_points(200, seed=5)
    trainer = Trainer(X, y, LossSpec(label_smoothing=0.1), l2=0.01, w0=[3.0, -1.0], b0=0.2)
    assert trainer.mean_loss(trainer.w, trainer.b) == trainer.mean_loss()
    assert trainer.objective(trainer.w, trainer.b) == trainer.objective()


# ----------------------------------------------------------------------------
# Proximal Newton converges (no Armijo noise)


def _overlap(kind: str):
    X, y = make_dataset("overlap", 200, seed=0)  # the default generated data
    return make_features(X, kind), y


def _soft(y, seed=0):
    rng = np.random.default_rng(seed)
    return np.where(y == 1.0, rng.uniform(0.6, 1.0, y.size), rng.uniform(0.0, 0.4, y.size))


def _assert_converges(F, y, spec, l1, tol, steps=50):
    fit = fit_logistic(F, y, spec, l1=l1, steps=steps, tol=tol)
    assert fit.converged, f"stalled at grad_norm {fit.history.grad_norm[-1]:.3g}"
    assert fit.steps <= steps
    assert fit.history.grad_norm[-1] <= tol
    # The objective never rose by more than rounding along the way.
    objective = fit.history.objective
    assert np.all(np.diff(objective) <= 1e-13 * objective[:-1])
    return fit


def test_l1_newton_with_pos_weight_converges():
    F, y = _overlap("poly3")
    fit = _assert_converges(F, y, LossSpec(pos_weight=50.0), l1=0.05, tol=1e-10)
    assert np.any(fit.w == 0.0)  # L1 zeros are exact
    # It keeps going to the rounding floor, not only to tol.
    deep = fit_logistic(F, y, LossSpec(pos_weight=50.0), l1=0.05, steps=50, tol=1e-13)
    assert deep.converged


def test_l1_newton_linear_converges():
    F, y = _overlap("linear")
    _assert_converges(F, y, LossSpec(), l1=0.05, tol=1e-12)
    _assert_converges(F, y, LossSpec(pos_weight=50.0), l1=0.05, tol=1e-12)


@pytest.mark.parametrize("kind", ["linear", "poly3"])
def test_soft_label_newton_converges(kind):
    F, y = _overlap(kind)
    ys = _soft(y)
    _assert_converges(F, ys, LossSpec(pos_weight=50.0), l1=0.05, tol=1e-10)
    _assert_converges(F, ys, LossSpec(pos_weight=50.0), l1=0.0, tol=1e-12)


def test_newton_at_the_optimum_stays_put_cheaply():
    F, y = _overlap("poly3")
    trainer = Trainer(F, y, LossSpec(pos_weight=50.0), optimizer="newton", l1=0.05)
    trainer.step(30)
    w, b = trainer.w, trainer.b
    calls = 0
    evaluate = trainer._evaluate

    def counting(*args):
        nonlocal calls
        calls += 1
        return evaluate(*args)

    trainer._evaluate = counting
    trainer.step(5)
    assert calls <= 5  # at most one trial point a step at the optimum, not 40
    np.testing.assert_allclose(trainer.w, w, rtol=0, atol=1e-12)
    assert trainer.b == pytest.approx(b, abs=1e-12)


# ----------------------------------------------------------------------------
# The loss surface keeps no residue of far points

SURFACE_SPECS = {
    "plain": LossSpec(),
    "smoothed_weighted": LossSpec(label_smoothing=0.1, pos_weight=3.0),
    "focal_alpha": LossSpec(focal_gamma=2.0, focal_alpha=0.25),
}
FAR = (1e12, 1e12)  # the largest coordinates LossSurface accepts


def _rel_diff(a, b) -> float:
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


def _default_points():
    return make_dataset("overlap", 200, seed=0)  # the app's default data


@pytest.mark.parametrize("far_label", [0.0, 1.0])
@pytest.mark.parametrize("name", list(SURFACE_SPECS))
def test_surface_far_point_added_and_removed_leaves_no_residue(name, far_label):
    X, y = _default_points()
    spec = SURFACE_SPECS[name]
    fresh = LossSurface(X, y, spec).values
    surface = LossSurface(X, y, spec)
    surface.values  # noqa: B018 (the sums exist: the edits are incremental)
    surface.add_point(FAR, far_label)
    assert np.max(surface.values) > 1e9  # the far point dominates while it is there
    surface.remove_point(surface.n_points - 1)
    assert _rel_diff(surface.values, fresh) <= 1e-6


@pytest.mark.parametrize("far_label", [0.0, 1.0])
@pytest.mark.parametrize("name", list(SURFACE_SPECS))
def test_surface_point_moved_far_and_back_leaves_no_residue(name, far_label):
    X, y = _default_points()
    spec = SURFACE_SPECS[name]
    fresh = LossSurface(X, y, spec).values
    surface = LossSurface(X, y, spec)
    surface.values  # noqa: B018
    i = int(np.flatnonzero(y == far_label)[0])
    surface.move_point(i, FAR)
    surface.values  # noqa: B018
    surface.move_point(i, (-FAR[0], 0.5 * FAR[1]))  # and somewhere else far away
    surface.set_label(i, 1.0 - far_label)
    surface.values  # noqa: B018
    surface.set_label(i, far_label)
    surface.move_point(i, X[i])
    assert _rel_diff(surface.values, fresh) <= 1e-6


@settings(max_examples=25, deadline=None)
@example(name="plain", edits=[("move", 0, 1e12, 0.0, 1.0, 0.0), ("move", 0, 1.0, 0.0, 0.0, 0.0)])
@example(name="focal_alpha", edits=[("add", 0, 1e12, 1.0, 1.0, 0.0), ("label", -1, 1.0, 0, 0, 1.0),
                                    ("remove", -1, 1.0, 0.0, 0.0, 0.0)])
@given(
    name=st.sampled_from(list(SURFACE_SPECS)),
    edits=st.lists(
        st.tuples(
            st.sampled_from(["move", "add", "remove", "label"]),
            st.integers(-2, 2),  # which point, counted from either end: the newest often
            st.sampled_from([1.0, 30.0, 1e3, 1e6, 1e9, 1e12]),
            st.floats(-1.0, 1.0),
            st.floats(-1.0, 1.0),
            st.sampled_from([0.0, 1.0, 0.3]),
        ),
        min_size=1,
        max_size=12,
    ),
)
def test_surface_after_any_edits_equals_a_fresh_build(name, edits):
    X, y = make_dataset("overlap", 20, seed=1)
    spec = SURFACE_SPECS[name]
    surface = LossSurface(X, y, spec, resolution=24)
    surface.values  # noqa: B018
    for kind, index, scale, u, v, label in edits:
        point = (scale * u, scale * v)
        if kind == "add" or surface.n_points < 2:
            surface.add_point(point, label)
        elif kind == "move":
            surface.move_point(index % surface.n_points, point)
        elif kind == "remove":
            surface.remove_point(index % surface.n_points)
        else:
            surface.set_label(index % surface.n_points, label)
        surface.values  # noqa: B018 (read after every edit, as the panel does)
    fresh = LossSurface(surface.X, surface.y, spec, resolution=24).values
    assert _rel_diff(surface.values, fresh) <= 1e-6


# ----------------------------------------------------------------------------
# Framework caps: the dtype each figure assumes


def test_sklearn_cap_depends_on_the_prediction_dtype():
    assert FRAMEWORK_CEILING_DTYPES["sklearn"] == "float64"
    assert FRAMEWORK_CEILINGS["sklearn"] == SKLEARN_CEILINGS["float64"]
    for dtype, expected in (("float32", 15.94), ("float64", 36.04)):
        cap = framework_ceiling("sklearn", dtype)
        assert cap == pytest.approx(expected, abs=0.005)
        sk = log_loss([1], np.array([0.0], dtype=dtype), labels=[0, 1])
        assert cap == pytest.approx(sk, rel=1e-6 if dtype == "float32" else 1e-14)
        sk0 = log_loss([0], np.array([1.0], dtype=dtype), labels=[0, 1])
        assert cap == pytest.approx(sk0, rel=1e-6 if dtype == "float32" else 1e-14)
    assert framework_ceiling("pytorch", "float32") == framework_ceiling("pytorch") == 100.0
    assert framework_ceiling("keras", np.float32) == FRAMEWORK_CEILINGS["keras"]
    with pytest.raises(ValueError, match="dtype"):
        framework_ceiling("sklearn", "float16")
    with pytest.raises(ValueError, match="framework"):
        framework_ceiling("theano")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_framework_loss_matches_sklearn_log_loss(dtype):
    p = np.array([0.0, 1e-12, 1e-9, 1e-6, 0.3, 0.5, 0.9, 1 - 1e-9, 1.0], dtype=dtype)
    for label in (0.0, 1.0):
        y = np.full(p.size, label)
        ours = framework_loss_from_probs(p, y, "sklearn", dtype=dtype)
        theirs = np.array([log_loss([label], p[i:i + 1], labels=[0, 1]) for i in range(p.size)])
        # scikit-learn takes log(1 - p) of a rounded 1 - p (in the given dtype):
        # an absolute error of one eps on the small losses.
        eps = float(np.finfo(dtype).eps)
        np.testing.assert_allclose(ours, theirs, rtol=1e-6 if dtype == "float32" else 1e-12,
                                   atol=2 * eps)
    # The default is the float64 figure, as before.
    np.testing.assert_array_equal(framework_loss_from_probs(p, y, "sklearn"),
                                  framework_loss_from_probs(p, y, "sklearn", dtype="float64"))
