"""Copy as code: the current loss settings as PyTorch, Keras and scikit-learn snippets.

Each snippet computes the loss bceviz shows (mean over samples, in nats) as
closely as the framework allows, and says so in a comment where a framework
has no exact equivalent. Numbers are written with ``repr`` so they round-trip
exactly. No Qt here: the GUI puts the text on the clipboard.

Conventions behind the translation (see ``bceviz.engine.losses``):

* label smoothing is Keras' ``y * (1 - eps) + eps / 2``; PyTorch's BCE has no
  smoothing argument, so its snippet smooths the targets by hand;
* ``pos_weight`` is PyTorch's ``BCEWithLogitsLoss(pos_weight=...)``; Keras and
  scikit-learn only weight whole samples (``class_weight``), which equals
  ``pos_weight`` for hard 0/1 labels and differs for soft or smoothed ones;
* focal loss is torchvision's ``sigmoid_focal_loss`` (``alpha=-1`` turns its
  class balancing off); torchvision's version has no ``pos_weight``, so with
  one the snippet writes the same formula out.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Literal, Optional

import numpy as np

from bceviz.engine.losses import LossSpec

if TYPE_CHECKING:  # pragma: no cover
    from bceviz.model.state import AppState

Framework = Literal["pytorch", "keras", "sklearn", "all"]
FRAMEWORKS: tuple[str, ...] = ("pytorch", "keras", "sklearn")
FRAMEWORK_TITLES = {"pytorch": "PyTorch", "keras": "Keras", "sklearn": "scikit-learn"}

#: Above this many training points ``training_code`` does not embed the data.
MAX_EMBEDDED_POINTS = 5000


def _num(x: float) -> str:
    """A float literal that reads back as exactly the same float."""
    return repr(float(x))


def _describe(spec: LossSpec) -> str:
    parts = []
    if spec.label_smoothing:
        parts.append(f"label smoothing {_num(spec.label_smoothing)}")
    if spec.pos_weight != 1.0:
        parts.append(f"pos_weight {_num(spec.pos_weight)}")
    if spec.is_focal:
        parts.append(f"focal gamma {_num(spec.focal_gamma)}")
        if spec.focal_alpha is not None:
            parts.append(f"alpha {_num(spec.focal_alpha)}")
    return ", ".join(parts) if parts else "plain BCE"


def _comment(text: str) -> str:
    """A note as ``#`` lines no wider than 88 characters."""
    return "".join(f"# {line}\n" for line in textwrap.wrap(text, 86))


def _smoothing_line(var: str, eps: float, indent: str = "") -> str:
    e = _num(eps)
    return f"{indent}{var} = {var} * (1 - {e}) + {e} / 2\n"


# ----------------------------------------------------------------------------
# PyTorch


def _pytorch(spec: LossSpec) -> str:
    eps, pw = spec.label_smoothing, spec.pos_weight
    head = (
        f"# bceviz loss ({_describe(spec)}) in PyTorch.\n"
        "# loss_fn(logits, targets): logits are raw scores before the sigmoid, targets\n"
        "# float labels in [0, 1] of the same shape; returns the mean loss in nats.\n"
    )
    smooth_note = (
        "    # PyTorch's BCE has no label_smoothing argument: smooth the targets by hand\n"
        "    # (Keras convention, which bceviz uses).\n"
    )
    if not spec.is_focal:
        ctor = ("nn.BCEWithLogitsLoss()" if pw == 1.0
                else f"nn.BCEWithLogitsLoss(pos_weight=torch.tensor({_num(pw)}))")
        code = head + "import torch\nfrom torch import nn\n\n"
        if not eps:
            return code + f"loss_fn = {ctor}\n"
        return code + (
            f"criterion = {ctor}\n\n\n"
            "def loss_fn(logits, targets):\n"
            + smooth_note + _smoothing_line("targets", eps, "    ")
            + "    return criterion(logits, targets)\n"
        )
    gamma = _num(spec.focal_gamma)
    if pw == 1.0:
        alpha = "-1" if spec.focal_alpha is None else _num(spec.focal_alpha)
        alpha_note = ("  # alpha=-1: no class balancing (torchvision's default is 0.25)"
                      if spec.focal_alpha is None else "")
        code = head + (
            "# Needs torchvision (pip install torchvision).\n"
            "import torch\nfrom torchvision.ops import sigmoid_focal_loss\n\n\n"
            "def loss_fn(logits, targets):\n"
        )
        if eps:
            code += smooth_note + _smoothing_line("targets", eps, "    ")
        return code + (
            "    return sigmoid_focal_loss(\n"
            f"        logits, targets, alpha={alpha}, gamma={gamma}, reduction=\"mean\"\n"
            f"    ){alpha_note}\n"
        )
    # torchvision's focal loss has no pos_weight: write the same formula out.
    code = head + (
        "# torchvision.ops.sigmoid_focal_loss has no pos_weight, so the same focal loss\n"
        "# is written out here (identical to torchvision's when pos_weight is 1).\n"
        "import torch\nimport torch.nn.functional as F\n\n\n"
        "def loss_fn(logits, targets):\n"
    )
    if eps:
        code += "    # Label smoothing by hand (Keras convention).\n"
        code += _smoothing_line("targets", eps, "    ")
    code += (
        "    ce = F.binary_cross_entropy_with_logits(\n"
        f"        logits, targets, pos_weight=torch.tensor({_num(pw)}), reduction=\"none\"\n"
        "    )\n"
        "    p = torch.sigmoid(logits)\n"
        "    p_t = p * targets + (1 - p) * (1 - targets)\n"
        f"    loss = ce * (1 - p_t) ** {gamma}\n"
    )
    if spec.focal_alpha is not None:
        a = _num(spec.focal_alpha)
        code += f"    loss = loss * ({a} * targets + (1 - {a}) * (1 - targets))\n"
    return code + "    return loss.mean()\n"


# ----------------------------------------------------------------------------
# Keras


def _keras_exact_custom(spec: LossSpec) -> str:
    """A Keras loss function that is exactly bceviz's loss (including pos_weight)."""
    eps, pw = spec.label_smoothing, spec.pos_weight
    code = "def loss_fn(y_true, logits):\n    y_true = keras.ops.cast(y_true, logits.dtype)\n"
    if eps:
        code += _smoothing_line("y_true", eps, "    ")
    code += (
        f"    ce = ({_num(pw)} * y_true * keras.ops.softplus(-logits)\n"
        "          + (1 - y_true) * keras.ops.softplus(logits))\n"
    )
    if spec.is_focal:
        code += (
            "    p = keras.ops.sigmoid(logits)\n"
            "    p_t = p * y_true + (1 - p) * (1 - y_true)\n"
            f"    ce = ce * (1 - p_t) ** {_num(spec.focal_gamma)}\n"
        )
        if spec.focal_alpha is not None:
            a = _num(spec.focal_alpha)
            code += f"    ce = ce * ({a} * y_true + (1 - {a}) * (1 - y_true))\n"
    return code + "    return keras.ops.mean(ce, axis=-1)\n"


def _keras(spec: LossSpec) -> str:
    eps, pw = spec.label_smoothing, spec.pos_weight
    code = (
        f"# bceviz loss ({_describe(spec)}) in Keras.\n"
        "# loss_fn(y_true, logits): the model's last layer outputs logits (no sigmoid);\n"
        "# use it as model.compile(loss=loss_fn, ...).\n"
        "import keras\n\n"
    )
    smoothing_arg = f", label_smoothing={_num(eps)}" if eps else ""
    if not spec.is_focal:
        builtin = f"keras.losses.BinaryCrossentropy(from_logits=True{smoothing_arg})"
    else:
        balancing = spec.focal_alpha is not None
        alpha = _num(spec.focal_alpha) if spec.focal_alpha is not None else "0.25"
        builtin = (
            "keras.losses.BinaryFocalCrossentropy(\n"
            f"    apply_class_balancing={balancing},\n"
            f"    alpha={alpha},\n"
            f"    gamma={_num(spec.focal_gamma)},\n"
            "    from_logits=True,\n"
            f"    label_smoothing={_num(eps)},\n"
            ")"
        )
        note = (
            "# Keras' focal loss applies the sigmoid, then clips p to [1e-7, 1 - 1e-7]:\n"
            "# a confidently wrong prediction is capped near 16.1 nats (bceviz is exact).\n"
        )
        if not balancing:
            note += "# apply_class_balancing=False: alpha is ignored (bceviz's alpha is off).\n"
        code += note
    if pw == 1.0:
        return code + f"loss_fn = {builtin}\n"
    p = _num(pw)
    code += (
        f"# pos_weight={p}: Keras losses have no pos_weight. With hard 0/1 labels and no\n"
        "# smoothing, the built-in loss with the positives weighted is the same loss:\n"
        f"#     model.fit(x, y, class_weight={{0: 1.0, 1: {p}}})\n"
        f"#     (or sample_weight = 1 + ({p} - 1) * y_true when calling the loss)\n"
        f"builtin_loss_fn = {builtin}\n\n"
        "# With soft or smoothed labels, sample weights scale both terms while pos_weight\n"
        "# scales only the positive one; this custom loss is exact in every case:\n\n"
    )
    return code + _keras_exact_custom(spec)


# ----------------------------------------------------------------------------
# scikit-learn


def _sklearn_estimator(spec: LossSpec, *, l2: float, l1: float,
                       n_expr: str) -> tuple[str, list[str]]:
    """(constructor text, notes) for LogisticRegression matching the objective."""
    args: list[str] = []
    notes: list[str] = []
    strength = l1 + l2
    if strength == 0.0:
        args.append("C=np.inf")
        notes.append("C=np.inf: no penalty (scikit-learn >= 1.8; older: penalty=None).")
    else:
        args.append(f"C=1 / ({_num(strength)} * {n_expr})")
        if l1 > 0.0:
            args.append(f"l1_ratio={_num(l1 / strength)}")
            args.append('solver="saga"')
            notes.append(
                "L1 needs the saga solver; scikit-learn < 1.8 also needs "
                + ('penalty="l1".' if l2 == 0.0 else 'penalty="elasticnet".'))
    if spec.pos_weight != 1.0:
        args.append(f"class_weight={{0: 1.0, 1: {_num(spec.pos_weight)}}}")
        notes.append("class_weight equals pos_weight for hard 0/1 labels.")
    # saga (L1) converges slowly; lbfgs needs more than the default 100 steps near C = inf.
    args.append("max_iter=100_000" if l1 > 0.0 else "max_iter=10_000")
    if spec.label_smoothing:
        notes.append(
            f"No label smoothing in scikit-learn: labels must be hard 0/1 classes, so "
            f"smoothing {_num(spec.label_smoothing)} is left out (not exact).")
    if spec.is_focal:
        focal = f"gamma {_num(spec.focal_gamma)}" + (
            f", alpha {_num(spec.focal_alpha)}" if spec.focal_alpha is not None else "")
        notes.append(
            "No focal loss in scikit-learn: LogisticRegression always minimises plain "
            f"(weighted) BCE, so the focal settings ({focal}) are left out (not exact).")
    ctor = "LogisticRegression(\n" + "".join(f"    {a},\n" for a in args) + ")"
    return ctor, notes


def _sklearn(spec: LossSpec, *, l2: float, l1: float, n_samples: Optional[int]) -> str:
    n_expr = str(int(n_samples)) if n_samples is not None else "n_samples"
    ctor, notes = _sklearn_estimator(spec, l2=l2, l1=l1, n_expr=n_expr)
    code = (
        f"# bceviz loss ({_describe(spec)}) in scikit-learn.\n"
        "# bceviz minimises mean BCE + l2/2 ||w||^2 + l1 ||w||_1 (bias not penalised);\n"
        "# LogisticRegression minimises C * sum(BCE) + penalty, hence C = 1 / (lambda n).\n"
    )
    code += "".join(_comment(n) for n in notes)
    code += "import numpy as np\nfrom sklearn.linear_model import LogisticRegression\n\n"
    if n_samples is None and (l1 + l2) > 0.0:
        code += "n_samples = len(y)  # training points\n"
    return code + f"clf = {ctor}\n# clf.fit(X, y)  # y: hard 0/1 labels\n"


# ----------------------------------------------------------------------------
# Public API


def loss_code(spec: LossSpec, framework: Framework = "all", *, l2: float = 0.0,
              l1: float = 0.0, n_samples: Optional[int] = None) -> str:
    """An equivalent loss snippet for "pytorch", "keras", "sklearn" or "all" of them.

    l2, l1 and n_samples only matter to scikit-learn, whose C folds the penalty
    strength and the number of samples together.
    """
    if not isinstance(spec, LossSpec):
        raise ValueError(f"spec must be a LossSpec, got {type(spec).__name__}")
    if framework == "pytorch":
        return _pytorch(spec)
    if framework == "keras":
        return _keras(spec)
    if framework == "sklearn":
        return _sklearn(spec, l2=float(l2), l1=float(l1), n_samples=n_samples)
    if framework == "all":
        parts = []
        for fw in FRAMEWORKS:
            title = FRAMEWORK_TITLES[fw]
            body = loss_code(spec, fw, l2=l2, l1=l1, n_samples=n_samples)  # type: ignore[arg-type]
            parts.append(f"# {'=' * 8} {title} {'=' * (60 - len(title))}\n{body}")
        return "\n\n".join(parts)
    raise ValueError(
        f"framework must be one of 'pytorch', 'keras', 'sklearn', 'all'; got {framework!r}")


def _array_literal(a: np.ndarray, per_line: int) -> str:
    """np.array([...]) text with every float written by repr (exact round trip)."""
    if a.ndim == 1:
        items = [_num(v) for v in a]
    else:
        items = ["[" + ", ".join(_num(v) for v in row) + "]" for row in a]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "np.array([\n" + "".join(f"    {ln},\n" for ln in lines) + "])"


def training_code(state: "AppState") -> str:
    """A scikit-learn script that fits the state's training data with its settings.

    The features are embedded as bceviz computes them for the current feature
    map (so the fitted coef_ lines up with bceviz's w); soft labels are
    rounded to classes because scikit-learn needs hard labels.
    """
    spec = state.spec
    t = state.training
    X = np.asarray(state.X_train, dtype=np.float64)
    y = np.asarray(state.y_train, dtype=np.float64)
    F = np.asarray(state.features_of(X), dtype=np.float64)
    n = len(y)
    ctor, notes = _sklearn_estimator(spec, l2=float(t.l2), l1=float(t.l1), n_expr="len(y)")
    code = (
        f"# Fit bceviz's model ({_describe(spec)}; features {state.features!r};\n"
        f"# l2={_num(t.l2)}, l1={_num(t.l1)}) with scikit-learn on its {n} training points.\n"
        "# bceviz minimises mean BCE + l2/2 ||w||^2 + l1 ||w||_1 (bias not penalised);\n"
        "# LogisticRegression minimises C * sum(BCE) + penalty, hence C = 1 / (lambda n).\n"
    )
    code += "".join(_comment(n_) for n_ in notes)
    code += "import numpy as np\nfrom sklearn.linear_model import LogisticRegression\n\n"
    if n > MAX_EMBEDDED_POINTS or n == 0:
        code += (
            f"# {n} points are too many to paste here: export the data as CSV from bceviz\n"
            "# and load the feature columns and labels yourself.\n"
            "X = ...  # (n, features)\ny = ...  # (n,) 0/1\n"
        )
    else:
        cols = F.shape[1] if F.ndim == 2 else 1
        code += f"# Feature columns as bceviz computes them ({state.features!r}).\n"
        code += f"X = {_array_literal(F, max(1, 4 // cols) if cols <= 4 else 1)}\n"
        hard = (y >= 0.5).astype(np.float64)
        if np.any((y != 0.0) & (y != 1.0)):
            code += "# bceviz has soft labels here; scikit-learn needs classes (rounded at 0.5).\n"
        code += f"y = {_array_literal(hard, 16)}\n"
    code += f"\nclf = {ctor}\nclf.fit(X, y)\n"
    code += "print(\"w =\", clf.coef_.ravel(), \" b =\", clf.intercept_[0])\n"
    return code


__all__ = ["loss_code", "training_code", "FRAMEWORKS", "FRAMEWORK_TITLES", "Framework"]
