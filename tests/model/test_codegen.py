"""Copy as code: the snippets compute bceviz's loss (exec'd here, on generated code only)."""

from __future__ import annotations

import sys
import types
import warnings

import numpy as np
import pytest

from bceviz.engine import LossSpec, loss_from_logits
from bceviz.model.codegen import loss_code, training_code

import torch as torch

SPECS = [
    LossSpec(),
    LossSpec(label_smoothing=0.1),
    LossSpec(pos_weight=3.0),
    LossSpec(pos_weight=0.0),
    LossSpec(label_smoothing=0.2, pos_weight=0.37),
    LossSpec(focal_gamma=2.0),
    LossSpec(focal_gamma=2.0, focal_alpha=0.25),
    LossSpec(focal_gamma=0.0, focal_alpha=0.8),
    LossSpec(label_smoothing=0.05, focal_gamma=1.5, focal_alpha=0.6),
    LossSpec(pos_weight=3.0, focal_gamma=2.0),
    LossSpec(label_smoothing=0.1, pos_weight=0.5, focal_gamma=0.7, focal_alpha=0.9),
]


def data(seed=0, n=257, soft=True):
    rng = np.random.default_rng(seed)
    logits = rng.normal(scale=3.0, size=n)
    labels = rng.random(n) if soft else (rng.random(n) < 0.4).astype(float)
    if soft:
        labels[:20] = np.round(labels[:20])  # some hard labels among the soft ones
    return logits, labels


def expected(spec, logits, labels):
    return float(np.mean(loss_from_logits(logits, labels, spec)))


# ----------------------------------------------------------------------------
# PyTorch: exec'd with real torch and a torchvision stub (the published formula)


def _stub_torchvision(calls: list):
    import torch.nn.functional as F

    def sigmoid_focal_loss(inputs, targets, alpha=0.25, gamma=2, reduction="none"):
        # torchvision.ops.focal_loss.sigmoid_focal_loss, as published.
        calls.append({"alpha": alpha, "gamma": gamma, "reduction": reduction})
        p = torch.sigmoid(inputs)
        ce_loss = F.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
        p_t = p * targets + (1 - p) * (1 - targets)
        loss = ce_loss * ((1 - p_t) ** gamma)
        if alpha >= 0:
            alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
            loss = alpha_t * loss
        if reduction == "mean":
            loss = loss.mean()
        elif reduction == "sum":
            loss = loss.sum()
        return loss

    tv = types.ModuleType("torchvision")
    ops = types.ModuleType("torchvision.ops")
    ops.sigmoid_focal_loss = sigmoid_focal_loss
    tv.ops = ops
    return {"torchvision": tv, "torchvision.ops": ops}


@pytest.mark.parametrize("spec", SPECS, ids=repr)
@pytest.mark.parametrize("soft", [True, False])
def test_pytorch_snippet_computes_the_same_loss(spec, soft, monkeypatch):
    calls: list = []
    for name, module in _stub_torchvision(calls).items():
        monkeypatch.setitem(sys.modules, name, module)
    code = loss_code(spec, "pytorch")
    namespace: dict = {}
    exec(compile(code, "<pytorch snippet>", "exec"), namespace)
    logits, labels = data(soft=soft)
    got = namespace["loss_fn"](torch.tensor(logits), torch.tensor(labels))
    # Float64 data; torch.tensor(pos_weight) is float32 (as users write it), so
    # a pos_weight like 0.37 is off by ~1e-8 relative.
    exact_weight = float(np.float32(spec.pos_weight)) == spec.pos_weight
    rel = 1e-12 if exact_weight else 1e-7
    assert float(got) == pytest.approx(expected(spec, logits, labels), rel=rel, abs=1e-15)
    uses_torchvision = spec.is_focal and spec.pos_weight == 1.0
    assert bool(calls) == uses_torchvision
    if uses_torchvision:
        alpha = -1 if spec.focal_alpha is None else spec.focal_alpha
        assert calls[0] == {"alpha": alpha, "gamma": spec.focal_gamma, "reduction": "mean"}


def test_pytorch_snippet_text():
    assert "nn.BCEWithLogitsLoss(pos_weight=torch.tensor(3.0))" in loss_code(
        LossSpec(pos_weight=3.0), "pytorch")
    smoothed = loss_code(LossSpec(label_smoothing=0.1), "pytorch")
    assert "no label_smoothing" in smoothed
    assert "targets = targets * (1 - 0.1) + 0.1 / 2" in smoothed
    focal = loss_code(LossSpec(focal_gamma=2.0, focal_alpha=0.25), "pytorch")
    assert "sigmoid_focal_loss(" in focal and "alpha=0.25, gamma=2.0" in focal
    assert 'reduction="mean"' in focal
    assert "alpha=-1" in loss_code(LossSpec(focal_gamma=2.0), "pytorch")
    weighted_focal = loss_code(LossSpec(pos_weight=2.0, focal_gamma=2.0), "pytorch")
    assert "has no pos_weight" in weighted_focal


# ----------------------------------------------------------------------------
# Keras: not installed; the text is checked, and the snippet is run against a
# stub implementing Keras' published formulas.


def _stub_keras():
    def softplus(x):
        return np.logaddexp(0.0, x)

    def sigmoid(x):
        return np.exp(-np.logaddexp(0.0, -x))

    def reduce(loss, sample_weight):
        # Keras' default reduction "sum_over_batch_size": sum(w * l) / batch size.
        if sample_weight is not None:
            loss = loss * sample_weight
        return float(np.mean(loss))

    class BinaryCrossentropy:
        def __init__(self, from_logits=False, label_smoothing=0.0, **kw):
            assert from_logits is True
            self.ls = label_smoothing

        def __call__(self, y_true, y_pred, sample_weight=None):
            y = y_true * (1.0 - self.ls) + 0.5 * self.ls
            per = np.maximum(y_pred, 0) - y_pred * y + np.log1p(np.exp(-np.abs(y_pred)))
            return reduce(per, sample_weight)

    class BinaryFocalCrossentropy:
        def __init__(self, apply_class_balancing=False, alpha=0.25, gamma=2.0,
                     from_logits=False, label_smoothing=0.0, **kw):
            assert from_logits is True
            self.balancing, self.alpha, self.gamma = apply_class_balancing, alpha, gamma
            self.ls = label_smoothing

        def __call__(self, y_true, y_pred, sample_weight=None):
            y = y_true * (1.0 - self.ls) + 0.5 * self.ls
            p = np.clip(sigmoid(y_pred), 1e-7, 1 - 1e-7)
            bce = -(y * np.log(p) + (1 - y) * np.log(1 - p))
            p_t = y * p + (1 - y) * (1 - p)
            focal = (1.0 - p_t) ** self.gamma * bce
            if self.balancing:
                focal = (y * self.alpha + (1 - y) * (1 - self.alpha)) * focal
            return reduce(focal, sample_weight)

    keras = types.ModuleType("keras")
    keras.ops = types.SimpleNamespace(
        softplus=softplus, sigmoid=sigmoid, mean=lambda x, axis=-1: np.mean(x, axis=axis),
        cast=lambda x, dtype: np.asarray(x, dtype=dtype))
    keras.losses = types.SimpleNamespace(
        BinaryCrossentropy=BinaryCrossentropy, BinaryFocalCrossentropy=BinaryFocalCrossentropy)
    return keras


@pytest.mark.parametrize("spec", SPECS, ids=repr)
def test_keras_snippet_computes_the_same_loss(spec, monkeypatch):
    monkeypatch.setitem(sys.modules, "keras", _stub_keras())
    namespace: dict = {}
    exec(compile(loss_code(spec, "keras"), "<keras snippet>", "exec"), namespace)
    logits, labels = data(seed=1)
    logits = np.clip(logits, -6, 6)  # inside Keras' 1e-7 probability clip
    got = namespace["loss_fn"](labels, logits)
    assert float(got) == pytest.approx(expected(spec, logits, labels), rel=1e-9)
    if spec.pos_weight != 1.0 and spec.label_smoothing == 0.0:
        # The comment's claim: for hard labels the built-in loss with the
        # positives weighted by pos_weight is the same loss.
        logits, hard = data(seed=2, soft=False)
        logits = np.clip(logits, -6, 6)
        weights = 1.0 + (spec.pos_weight - 1.0) * hard
        builtin = namespace["builtin_loss_fn"](hard, logits, sample_weight=weights)
        assert builtin == pytest.approx(expected(spec, logits, hard), rel=1e-9)


def test_keras_snippet_text():
    assert "keras.losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1)" in \
        loss_code(LossSpec(label_smoothing=0.1), "keras")
    assert "keras.losses.BinaryCrossentropy(from_logits=True)" in loss_code(LossSpec(), "keras")
    focal = loss_code(LossSpec(label_smoothing=0.1, focal_gamma=2.0, focal_alpha=0.25), "keras")
    for arg in ("apply_class_balancing=True", "alpha=0.25", "gamma=2.0", "from_logits=True",
                "label_smoothing=0.1"):
        assert arg in focal
    assert "BinaryFocalCrossentropy(" in focal
    assert "apply_class_balancing=False" in loss_code(LossSpec(focal_gamma=2.0), "keras")
    weighted = loss_code(LossSpec(pos_weight=3.0), "keras")
    assert "no pos_weight" in weighted and "class_weight={0: 1.0, 1: 3.0}" in weighted


# ----------------------------------------------------------------------------
# scikit-learn


def test_sklearn_snippet_text():
    code = loss_code(LossSpec(pos_weight=3.0), "sklearn", l2=0.01, n_samples=150)
    assert "LogisticRegression(" in code and "C=1 / (0.01 * 150)" in code
    assert "class_weight={0: 1.0, 1: 3.0}" in code
    assert "C=np.inf" in loss_code(LossSpec(), "sklearn")
    assert "n_samples = len(y)" in loss_code(LossSpec(), "sklearn", l2=0.1)
    l1 = loss_code(LossSpec(), "sklearn", l1=0.02, n_samples=10)
    assert "l1_ratio=1.0" in l1 and 'solver="saga"' in l1
    both = loss_code(LossSpec(), "sklearn", l1=0.01, l2=0.03, n_samples=10)
    assert "C=1 / (0.04 * 10)" in both and "l1_ratio=0.25" in both
    smooth_focal = loss_code(LossSpec(label_smoothing=0.1, focal_gamma=2.0), "sklearn")
    assert "No label smoothing in scikit-learn" in smooth_focal
    assert "No focal loss in scikit-learn" in smooth_focal


def test_all_contains_every_framework_and_compiles():
    code = loss_code(LossSpec(label_smoothing=0.1, pos_weight=2.0, focal_gamma=1.0), "all")
    for title in ("PyTorch", "Keras", "scikit-learn"):
        assert f"======== {title} " in code
    compile(code, "<all>", "exec")
    for spec in SPECS:
        for framework in ("pytorch", "keras", "sklearn"):
            compile(loss_code(spec, framework), framework, "exec")


def test_bad_framework_is_refused():
    with pytest.raises(ValueError, match="framework must be one of"):
        loss_code(LossSpec(), "jax")


def test_numbers_round_trip_exactly():
    code = loss_code(LossSpec(pos_weight=1.0 / 3.0), "pytorch")
    assert f"torch.tensor({1.0 / 3.0!r})" in code


@pytest.mark.parametrize("features", ["linear", "product"])
def test_training_code_fits_the_same_model_as_bceviz(features):
    import sklearn  # noqa: F401 - the reference must be installed
    from bceviz.engine.logistic import fit_logistic
    from bceviz.model.state import AppState

    state = AppState()
    state.generate(kind="overlap", n=120, noise=0.3, seed=4)
    state.set_features(features)
    state.set_spec(pos_weight=2.0)
    state.set_training(l2=0.05)
    code = training_code(state)
    assert "class_weight={0: 1.0, 1: 2.0}" in code
    namespace: dict = {"print": lambda *args: None}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(code, "<training snippet>", "exec"), namespace)
    clf = namespace["clf"]
    F = state.features_of(state.X_train)
    fit = fit_logistic(F, state.y_train, state.spec, l2=0.05, optimizer="newton", steps=100)
    np.testing.assert_allclose(clf.coef_.ravel(), fit.w, atol=2e-3)
    assert clf.intercept_[0] == pytest.approx(fit.b, abs=2e-3)


def test_training_code_notes_soft_labels():
    from bceviz.model.state import AppState

    state = AppState()
    state.set_label(0, 0.3)
    assert "soft labels" in training_code(state)
