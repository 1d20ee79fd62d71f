"""bceviz.engine.graph against torch_geometric and PyTorch, plus the laws of its pieces.

References: ``torch_geometric.nn.conv.gcn_conv.gcn_norm`` for the normalised
adjacency, two ``GCNConv`` layers with a ReLU for the logits, autograd of
``torch.nn.BCEWithLogitsLoss`` (mean over the known nodes, ``pos_weight``)
for the gradient, ``torch.optim.Adam`` for a training step, and
scikit-learn's ``LogisticRegression`` for the graph-blind baseline. All in
float64; none of them is skipped when missing (they are the test extra).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from torch_geometric.nn import GCNConv
from torch_geometric.nn.conv.gcn_conv import gcn_norm

from bceviz.engine.graph import (
    EXPOSURE_UNIT,
    GCNTrainer,
    fit_baseline,
    firm_features,
    gcn_grad,
    gcn_logits,
    gcn_loss,
    hop_distances,
    init_params,
    make_lending_network,
    network_layout,
    normalized_adjacency,
    simulate_cascade,
    split_known,
    validate_adjacency,
)
from bceviz.engine.losses import LossSpec

torch.set_default_dtype(torch.float64)


# ----------------------------------------------------------------------------- fixtures


def random_graph(n: int, seed: int, *, density: float = 0.3, isolated: int | None = None):
    rng = np.random.default_rng(seed)
    A = np.triu(rng.uniform(0.1, 3.0, (n, n)) * (rng.random((n, n)) < density), 1)
    A = A + A.T
    if isolated is not None:
        A[isolated, :] = 0.0
        A[:, isolated] = 0.0
    return A


def random_params(d: int, h: int, seed: int):
    rng = np.random.default_rng(seed)
    return {"W1": rng.normal(0, 0.8, (d, h)), "b1": rng.normal(0, 0.3, h),
            "w2": rng.normal(0, 0.8, h), "b2": np.asarray(rng.normal(0, 0.3))}


def edges(A: np.ndarray):
    src, dst = np.nonzero(A)
    return (torch.as_tensor(np.vstack([src, dst]), dtype=torch.long),
            torch.as_tensor(A[src, dst]))


def dense_from_edges(edge_index, edge_weight, n):
    """Dense matrix M with M[target, source] = weight (PyG's source-to-target flow)."""
    M = np.zeros((n, n))
    ei, ew = edge_index.numpy(), edge_weight.numpy()
    np.add.at(M, (ei[1], ei[0]), ew)
    return M


def torch_gcn(A, X, params):
    n, d = X.shape
    h = params["W1"].shape[1]
    conv1, conv2 = GCNConv(d, h), GCNConv(h, 1)
    with torch.no_grad():
        conv1.lin.weight.copy_(torch.as_tensor(params["W1"].T))
        conv1.bias.copy_(torch.as_tensor(params["b1"]))
        conv2.lin.weight.copy_(torch.as_tensor(params["w2"][None, :]))
        conv2.bias.copy_(torch.as_tensor(np.atleast_1d(params["b2"])))
    return conv1, conv2


# ----------------------------------------------------------------------------- parity


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_normalized_adjacency_equals_gcn_norm_with_weights_and_an_isolated_firm(seed):
    n = 9
    A = random_graph(n, seed, density=0.5, isolated=4)
    assert not A[4].any()
    edge_index, edge_weight = edges(A)
    ei, ew = gcn_norm(edge_index, edge_weight, num_nodes=n, add_self_loops=True)
    expected = dense_from_edges(ei, ew, n)
    got = normalized_adjacency(A)
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-15)
    assert got[4, 4] == 1.0 and np.count_nonzero(got[4]) == 1


def test_normalized_adjacency_of_an_edgeless_graph_is_the_identity():
    np.testing.assert_array_equal(normalized_adjacency(np.zeros((5, 5))), np.eye(5))
    edge_index = torch.zeros((2, 0), dtype=torch.long)
    ei, ew = gcn_norm(edge_index, torch.zeros(0), num_nodes=5, add_self_loops=True)
    np.testing.assert_allclose(dense_from_edges(ei, ew, 5), np.eye(5))


@pytest.mark.parametrize("seed", [0, 3, 7])
def test_gcn_logits_equal_two_gcnconv_layers_with_a_relu(seed):
    n, d, h = 12, 3, 5
    A = random_graph(n, seed, isolated=2)
    X = np.random.default_rng(seed + 10).normal(size=(n, d))
    params = random_params(d, h, seed)
    conv1, conv2 = torch_gcn(A, X, params)
    edge_index, edge_weight = edges(A)
    x = torch.as_tensor(X)
    with torch.no_grad():
        expected = conv2(torch.relu(conv1(x, edge_index, edge_weight)), edge_index,
                         edge_weight).squeeze(-1).numpy()
    got = gcn_logits(normalized_adjacency(A), X, params)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("pos_weight", [1.0, 4.5])
@pytest.mark.parametrize("seed", [0, 5])
def test_gcn_grad_equals_autograd_of_masked_mean_bce_with_logits(seed, pos_weight):
    n, d, h = 14, 3, 6
    rng = np.random.default_rng(seed)
    A = random_graph(n, seed, isolated=0)
    X = rng.normal(size=(n, d))
    y = (rng.random(n) < 0.35).astype(float)
    mask = rng.random(n) < 0.6
    mask[:2] = True
    params = random_params(d, h, seed + 1)
    conv1, conv2 = torch_gcn(A, X, params)
    edge_index, edge_weight = edges(A)
    out = conv2(torch.relu(conv1(torch.as_tensor(X), edge_index, edge_weight)), edge_index,
                edge_weight).squeeze(-1)
    m = torch.as_tensor(mask)
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(pos_weight))
    loss = loss_fn(out[m], torch.as_tensor(y)[m])
    loss.backward()
    spec = LossSpec(pos_weight=pos_weight)
    A_hat = normalized_adjacency(A)
    assert gcn_loss(A_hat, X, y, mask, params, spec=spec) == pytest.approx(loss.item(), rel=1e-12)
    grads = gcn_grad(A_hat, X, y, mask, params, spec=spec)
    assert set(grads) == {"W1", "b1", "w2", "b2"}
    np.testing.assert_allclose(grads["W1"], conv1.lin.weight.grad.numpy().T, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(grads["b1"], conv1.bias.grad.numpy(), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(grads["w2"], conv2.lin.weight.grad.numpy()[0], rtol=1e-10,
                               atol=1e-13)
    np.testing.assert_allclose(grads["b2"], conv2.bias.grad.numpy()[0], rtol=1e-10, atol=1e-13)
    for k in params:
        assert np.shape(grads[k]) == np.shape(params[k])


def test_gcn_grad_with_label_smoothing_equals_autograd_on_smoothed_targets():
    n, d, h = 10, 3, 4
    rng = np.random.default_rng(11)
    A = random_graph(n, 11)
    X = rng.normal(size=(n, d))
    y = (rng.random(n) < 0.4).astype(float)
    mask = np.ones(n, dtype=bool)
    params = random_params(d, h, 2)
    conv1, conv2 = torch_gcn(A, X, params)
    edge_index, edge_weight = edges(A)
    out = conv2(torch.relu(conv1(torch.as_tensor(X), edge_index, edge_weight)), edge_index,
                edge_weight).squeeze(-1)
    eps = 0.2
    target = torch.as_tensor(y * (1 - eps) + eps / 2)
    torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(2.0))(out, target).backward()
    grads = gcn_grad(normalized_adjacency(A), X, y, mask, params,
                     spec=LossSpec(label_smoothing=eps, pos_weight=2.0))
    np.testing.assert_allclose(grads["W1"], conv1.lin.weight.grad.numpy().T, rtol=1e-10, atol=1e-13)


def test_one_adam_training_run_equals_torch_adam_with_l2_on_the_weights_only():
    n, h, l2, lr = 16, 5, 0.03, 0.05
    net = make_lending_network(16, seed=4)
    X = firm_features(net.leverage, net.liquidity, net.size)
    y = net.defaulted
    mask = split_known(y, 0.5, seed=4)
    A = net.exposures / EXPOSURE_UNIT
    spec = LossSpec(pos_weight=3.0)
    trainer = GCNTrainer(normalized_adjacency(A), X, y, mask, hidden=h, spec=spec, lr=lr, l2=l2,
                         seed=9)
    conv1, conv2 = torch_gcn(A, X, trainer.params)
    opt = torch.optim.Adam([
        {"params": [conv1.lin.weight, conv2.lin.weight], "weight_decay": l2},
        {"params": [conv1.bias, conv2.bias], "weight_decay": 0.0},
    ], lr=lr, betas=(0.9, 0.999), eps=1e-8)
    edge_index, edge_weight = edges(A)
    m = torch.as_tensor(mask)
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(3.0))
    for _ in range(25):
        opt.zero_grad()
        out = conv2(torch.relu(conv1(torch.as_tensor(X), edge_index, edge_weight)), edge_index,
                    edge_weight).squeeze(-1)
        loss_fn(out[m], torch.as_tensor(y)[m]).backward()
        opt.step()
    assert trainer.step(25) == 25
    np.testing.assert_allclose(trainer.params["W1"], conv1.lin.weight.detach().numpy().T,
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(trainer.params["w2"], conv2.lin.weight.detach().numpy()[0],
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(trainer.params["b2"], conv2.bias.detach().numpy()[0], rtol=1e-9,
                               atol=1e-12)
    assert n == net.n


def test_baseline_equals_scikit_learn_logistic_regression_on_the_known_firms():
    net = make_lending_network(30, seed=2)
    X = firm_features(net.leverage, net.liquidity, net.size)
    y = net.defaulted
    mask = split_known(y, 0.6, seed=2)
    l2 = 0.03
    base = fit_baseline(X, y, mask, l2=l2)
    ref = LogisticRegression(C=1.0 / (l2 * mask.sum()), tol=1e-12, max_iter=10_000)
    ref.fit(X[mask], y[mask])
    np.testing.assert_allclose(base.w, ref.coef_[0], rtol=1e-6, atol=1e-8)
    assert base.b == pytest.approx(ref.intercept_[0], rel=1e-6, abs=1e-8)
    np.testing.assert_allclose(base.logits(X), ref.decision_function(X), rtol=1e-6, atol=1e-7)


# ----------------------------------------------------------------------------- validation


@pytest.mark.parametrize("bad, words", [
    (np.array([[0.0, 1.0], [2.0, 0.0]]), "symmetric"),
    (np.array([[0.0, -1.0], [-1.0, 0.0]]), "non-negative"),
    (np.array([[1.0, 1.0], [1.0, 0.0]]), "zero diagonal"),
    (np.array([[0.0, np.nan], [np.nan, 0.0]]), "finite"),
    (np.zeros((2, 3)), "square"),
    (np.zeros(3), "2-D"),
    (np.zeros((0, 0)), "n >= 1"),
    ([["a", "b"], ["c", "d"]], "numeric"),
])
def test_invalid_exposure_matrices_are_refused_by_name(bad, words):
    with pytest.raises(ValueError, match=words) as info:
        normalized_adjacency(bad)
    assert "A" in str(info.value)


def test_invalid_params_features_and_masks_are_refused_by_name():
    A_hat = normalized_adjacency(random_graph(5, 0))
    X = np.ones((5, 3))
    params = init_params(3, 4)
    with pytest.raises(ValueError, match="W1"):
        gcn_logits(A_hat, X, {**params, "W1": np.ones((2, 4))})
    with pytest.raises(ValueError, match="b1"):
        gcn_logits(A_hat, X, {**params, "b1": np.ones(3)})
    with pytest.raises(ValueError, match="w2"):
        gcn_logits(A_hat, X, {**params, "w2": np.ones((4, 1))})
    with pytest.raises(ValueError, match="b2"):
        gcn_logits(A_hat, X, {**params, "b2": np.ones(2)})
    with pytest.raises(ValueError, match="keys"):
        gcn_logits(A_hat, X, {"W1": params["W1"]})
    with pytest.raises(ValueError, match="X"):
        gcn_logits(A_hat, np.ones((4, 3)), params)
    with pytest.raises(ValueError, match="mask"):
        gcn_grad(A_hat, X, np.zeros(5), np.array([0, 1, 2, 0, 1]), params)
    with pytest.raises(ValueError, match="labels y"):
        gcn_grad(A_hat, X, np.full(5, 2.0), np.ones(5, bool), params)
    with pytest.raises(ValueError, match="spec"):
        gcn_loss(A_hat, X, np.zeros(5), np.ones(5, bool), params, spec="bce")


def test_an_empty_mask_has_zero_loss_and_zero_gradient():
    A_hat = normalized_adjacency(random_graph(6, 1))
    X = np.random.default_rng(0).normal(size=(6, 3))
    params = random_params(3, 4, 0)
    mask = np.zeros(6, dtype=bool)
    assert gcn_loss(A_hat, X, np.zeros(6), mask, params) == 0.0
    grads = gcn_grad(A_hat, X, np.zeros(6), mask, params)
    assert all(not np.any(v) for v in grads.values())


def test_the_loss_is_finite_for_huge_logits():
    A_hat = normalized_adjacency(random_graph(6, 2))
    X = np.full((6, 3), 1e3)
    params = {**init_params(3, 4, 1), "b2": np.asarray(1e6)}
    y = np.array([0, 1, 0, 1, 0, 1.0])
    loss = gcn_loss(A_hat, X, y, np.ones(6, bool), params)
    assert np.isfinite(loss) and loss > 1e5
    assert all(np.all(np.isfinite(v)) for v in gcn_grad(A_hat, X, y, np.ones(6, bool),
                                                          params).values())


# ----------------------------------------------------------------------------- laws


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(3, 9), h=st.integers(1, 5),
       pos_weight=st.floats(0.2, 8.0))
def test_gcn_grad_equals_central_finite_differences(seed, n, h, pos_weight):
    rng = np.random.default_rng(seed)
    A_hat = normalized_adjacency(random_graph(n, seed, density=0.5))
    X = rng.normal(size=(n, 2))
    y = rng.random(n)  # soft labels too
    mask = rng.random(n) < 0.7
    params = random_params(2, h, seed)
    # Keep the ReLU away from its kink so the finite difference is a derivative.
    pre = A_hat @ X @ params["W1"] + params["b1"]
    params["b1"] = params["b1"] + np.where(np.abs(pre).min(axis=0) < 1e-3, 0.01, 0.0)
    spec = LossSpec(pos_weight=pos_weight)
    grads = gcn_grad(A_hat, X, y, mask, params, spec=spec)
    step = 1e-6
    for key in ("W1", "b1", "w2", "b2"):
        for idx in range(np.size(params[key])):
            plus = {k: np.array(v, copy=True) for k, v in params.items()}
            minus = {k: np.array(v, copy=True) for k, v in params.items()}
            plus[key] = (params[key].ravel() + step * (np.arange(params[key].size) == idx)
                         ).reshape(params[key].shape)
            minus[key] = (params[key].ravel() - step * (np.arange(params[key].size) == idx)
                          ).reshape(params[key].shape)
            numeric = (gcn_loss(A_hat, X, y, mask, plus, spec=spec)
                       - gcn_loss(A_hat, X, y, mask, minus, spec=spec)) / (2 * step)
            analytic = np.atleast_1d(grads[key]).ravel()[idx]
            assert analytic == pytest.approx(numeric, rel=1e-5, abs=1e-7), key


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 12))
def test_normalized_adjacency_is_symmetric_with_spectrum_in_minus_one_one(seed, n):
    A = random_graph(n, seed, density=0.4)
    A_hat = normalized_adjacency(A)
    np.testing.assert_allclose(A_hat, A_hat.T, rtol=0, atol=1e-15)
    assert np.all(A_hat >= 0) and np.all(A_hat <= 1)
    eig = np.linalg.eigvalsh(A_hat)
    assert eig.max() <= 1 + 1e-12 and eig.min() > -1


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_two_layers_hear_two_hops_and_no_further(seed):
    rng = np.random.default_rng(seed)
    n = 12
    A = np.zeros((n, n))
    for i in range(n - 1):  # a path: hops are |i - j|
        A[i, i + 1] = A[i + 1, i] = rng.uniform(0.2, 2.0)
    A_hat = normalized_adjacency(A)
    X = rng.normal(size=(n, 3))
    params = random_params(3, 6, seed)
    params["b1"] = np.abs(params["b1"]) + 5.0  # every unit active: the change shows
    source = int(rng.integers(0, n))
    X2 = X.copy()
    X2[source] += 1.0
    moved = np.abs(gcn_logits(A_hat, X2, params) - gcn_logits(A_hat, X, params)) > 1e-12
    hops = hop_distances(A, [source])
    assert not np.any(moved & (hops > 2))
    assert moved[source]


def test_hop_distances_count_links_and_mark_unreachable():
    A = np.zeros((5, 5))
    A[0, 1] = A[1, 0] = A[1, 2] = A[2, 1] = 1.0
    np.testing.assert_array_equal(hop_distances(A, [0]), [0, 1, 2, -1, -1])
    np.testing.assert_array_equal(hop_distances(A, [0, 2]), [0, 1, 0, -1, -1])
    with pytest.raises(ValueError, match="sources"):
        hop_distances(A, [7])


def test_cascade_follows_the_rule_and_higher_resilience_means_fewer_defaults():
    # A chain 0 - 1 - 2 and a hub 3 with many healthy partners.
    A = np.zeros((8, 8))
    for i, j, w in [(0, 1, 5.0), (1, 2, 5.0), (0, 3, 1.0), (3, 4, 9.0), (3, 5, 9.0),
                    (3, 6, 9.0), (3, 7, 9.0)]:
        A[i, j] = A[j, i] = w
    start = np.zeros(8, bool)
    start[0] = True
    cushion = np.ones(8)
    rounds = simulate_cascade(A, cushion, start, resilience=0.25, lgd=0.6)
    # Firm 1 lost half its book (0.6 * 0.5 = 0.3 >= 0.25); firm 2 all of it the round after;
    # hub 3 lost 1/37 of its book and survives.
    np.testing.assert_array_equal(rounds, [0, 1, 2, -1, -1, -1, -1, -1])
    assert np.array_equal(simulate_cascade(A, cushion, start, resilience=0.25, max_rounds=1),
                          [0, 1, -1, -1, -1, -1, -1, -1])
    net = make_lending_network(35, seed=3, resilience=0.1)
    previous = None
    for res in (0.1, 0.2, 0.4, 0.8):
        failed = simulate_cascade(net.exposures, net.cushion, net.initially_distressed,
                                  resilience=res) >= 0
        if previous is not None:
            assert not np.any(failed & ~previous)
        previous = failed
    with pytest.raises(ValueError, match="resilience"):
        simulate_cascade(A, cushion, start, resilience=0.0)


def test_the_lending_network_is_seeded_valid_and_states_its_parameters():
    a = make_lending_network(30, seed=5)
    b = make_lending_network(30, seed=5)
    c = make_lending_network(30, seed=6)
    np.testing.assert_array_equal(a.exposures, b.exposures)
    np.testing.assert_array_equal(a.default_round, b.default_round)
    assert not np.array_equal(a.exposures, c.exposures)
    validate_adjacency(a.exposures)
    assert a.n == 30 and a.params["seed"] == 5 and a.params["contagion_rounds"] == 2
    assert np.all((a.leverage >= 0.05) & (a.leverage <= 0.95))
    assert np.all((a.liquidity >= 0.1) & (a.liquidity <= 3.0))
    assert np.all(a.size > 0)
    assert a.initially_distressed.sum() == 3
    assert np.all(a.leverage[a.initially_distressed] >= 0.8)
    np.testing.assert_array_equal(a.defaulted, (a.default_round >= 0).astype(float))
    assert np.all(a.default_round <= 2)
    # Connected by construction: every firm reaches firm 0.
    assert np.all(hop_distances(a.exposures, [0]) >= 0)
    for kwargs, name in [({"n_firms": 14}, "n_firms"), ({"n_firms": 41}, "n_firms"),
                         ({"initially_distressed": 0}, "initially_distressed"),
                         ({"resilience": 2.0}, "resilience"), ({"seed": -1}, "seed"),
                         ({"contagion_rounds": 9}, "contagion_rounds")]:
        with pytest.raises(ValueError, match=name):
            make_lending_network(**kwargs)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 1000), frac=st.floats(0.1, 0.9))
def test_split_known_is_stratified_with_both_classes_on_both_sides(seed, frac):
    y = make_lending_network(20, seed=seed).defaulted
    known = split_known(y, frac, seed=seed)
    np.testing.assert_array_equal(known, split_known(y, frac, seed=seed))
    for c in (0.0, 1.0):
        count = int(np.sum(y == c))
        if count >= 2:
            assert 1 <= np.sum(known & (y == c)) <= count - 1


def test_layout_is_deterministic_inside_the_unit_square_and_keeps_firms_apart():
    net = make_lending_network(40, seed=1)
    pos = network_layout(net.exposures)
    np.testing.assert_array_equal(pos, network_layout(net.exposures.copy()))
    assert pos.shape == (40, 2)
    assert np.abs(pos).max() == pytest.approx(1.0)
    dist = np.sqrt(((pos[:, None] - pos[None]) ** 2).sum(-1)) + np.eye(40) * 9
    assert dist.min() > 0.04
    spread = pos.max(axis=0) - pos.min(axis=0)
    assert spread[0] >= spread[1]  # the long axis is horizontal
    # Linked firms sit closer together than unlinked ones, on average.
    linked = net.exposures > 0
    off = ~np.eye(40, dtype=bool)
    assert dist[linked].mean() < dist[~linked & off].mean()
    # Two firms that are not linked at all still get apart positions.
    assert network_layout(np.zeros((2, 2))).tolist() == [[-1.0, 0.0], [1.0, 0.0]]
    assert network_layout(np.zeros((1, 1))).tolist() == [[0.0, 0.0]]
    sparse = network_layout(np.zeros((6, 6)))
    assert np.all(np.isfinite(sparse))


# ----------------------------------------------------------------------------- training


def _trainer(**kwargs):
    net = make_lending_network(30, seed=0)
    X = firm_features(net.leverage, net.liquidity, net.size)
    y = net.defaulted
    mask = split_known(y, 0.5, seed=0)
    A_hat = normalized_adjacency(net.exposures / EXPOSURE_UNIT)
    return GCNTrainer(A_hat, X, y, mask, **kwargs), (A_hat, X, y, mask)


@pytest.mark.parametrize("optimizer", ["adam", "gd"])
def test_training_lowers_the_objective_and_keeps_a_bounded_history(optimizer):
    trainer, (A_hat, X, y, mask) = _trainer(optimizer=optimizer, lr=0.03 if optimizer == "adam"
                                            else 0.5, l2=0.03)
    start = trainer.objective
    assert trainer.step(300) == 300
    assert trainer.objective < start
    assert trainer.steps == 300
    assert trainer.history.step[-1] == 300 and trainer.history.step[0] == 0
    assert trainer.loss == pytest.approx(gcn_loss(A_hat, X, y, mask, trainer.params,
                                                  spec=trainer.spec))
    heldout = trainer.history.heldout_loss
    assert np.all(np.isfinite(heldout))
    small = GCNTrainer(A_hat, X, y, mask)
    small.history = type(trainer.history)(capacity=16)
    small.step(1000)
    assert len(small.history) <= 16 and small.history.step[-1] == 1000
    assert np.all(np.diff(small.history.step) > 0)


def test_set_data_keeps_the_weights_and_a_state_dict_round_trip_continues_identically():
    trainer, (A_hat, X, y, mask) = _trainer()
    trainer.step(20)
    before = {k: v.copy() for k, v in trainer.params.items()}
    X2 = X.copy()
    X2[3, 0] += 1.0
    trainer.set_data(X=X2)
    assert all(np.array_equal(before[k], trainer.params[k]) for k in before)
    state = trainer.state_dict()
    import json

    state = json.loads(json.dumps(state))
    other, _ = _trainer()
    other.set_data(X=X2)
    other.load_state_dict(state)
    trainer.step(5)
    other.step(5)
    for k in before:
        np.testing.assert_array_equal(trainer.params[k], other.params[k])
    with pytest.raises(ValueError, match="W1"):
        other.load_state_dict({**state, "params": {**state["params"], "W1": [[1.0]]}})


def test_no_known_firm_means_nothing_to_train_and_a_blow_up_is_caught():
    trainer, (A_hat, X, y, mask) = _trainer()
    trainer.set_data(mask=np.zeros_like(mask))
    assert trainer.step(10) == 0
    huge, _ = _trainer(optimizer="gd", lr=10.0)
    huge.set_data(X=np.full_like(X, 1e200))
    done = huge.step(50)
    assert huge.diverged and done < 50 and "diverged" in huge.status
    assert all(np.all(np.isfinite(v)) for v in huge.params.values())
    with pytest.raises(ValueError, match="optimizer"):
        _trainer(optimizer="lbfgs")
    with pytest.raises(ValueError, match="lr"):
        _trainer(lr=0.0)


def test_the_baseline_ignores_the_graph_and_handles_no_known_firm():
    net = make_lending_network(20, seed=1)
    X = firm_features(net.leverage, net.liquidity, net.size)
    y = net.defaulted
    empty = fit_baseline(X, y, np.zeros(20, bool))
    assert empty.b == 0.0 and not empty.w.any()
    mask = split_known(y, 0.5, seed=1)
    weighted = fit_baseline(X, y, mask, spec=LossSpec(pos_weight=5.0))
    plain = fit_baseline(X, y, mask)
    assert weighted.b > plain.b  # weighting the defaults pushes every prediction up


def test_firm_features_use_fixed_scalings():
    X = firm_features([0.6, 0.75], [1.0, 0.5], [316.2277660168379, 1000.0])
    np.testing.assert_allclose(X, [[0, 0, 0], [1, -1, 1]], atol=1e-12)
    with pytest.raises(ValueError, match="size"):
        firm_features([0.5], [1.0], [0.0])


def test_a_warm_started_baseline_reaches_the_same_optimum():
    net = make_lending_network(30, seed=2)
    X = firm_features(net.leverage, net.liquidity, net.size)
    y = net.defaulted
    mask = split_known(y, 0.6, seed=2)
    cold = fit_baseline(X, y, mask, l2=0.03)
    X2 = X.copy()
    X2[4, 0] += 0.5
    warm = fit_baseline(X2, y, mask, l2=0.03, start=cold)
    again = fit_baseline(X2, y, mask, l2=0.03)
    np.testing.assert_allclose(warm.w, again.w, rtol=1e-7, atol=1e-9)
    assert warm.b == pytest.approx(again.b, rel=1e-7, abs=1e-9)
