"""bceviz.engine.gan against the field's own libraries: PyTorch (losses, autograd) and SciPy.

* ``discriminator_loss`` = torch ``BCEWithLogitsLoss`` with targets
  ``real_label`` and 0 on logits / T;
* ``generator_loss`` = the ``logsigmoid`` forms, ``generator_loss_grad`` =
  their autograd gradient with respect to the raw logits (so the 1/(n·T)
  factor is checked), logits up to ±40 included;
* the gradients with respect to μ, σ (and the bend b) through the
  reparameterised generator, and the discriminator's gradient, = autograd of
  the same computation written in torch;
* the mixture density = ``scipy.stats.norm``; the generator density =
  change of variables with SciPy's root finder; the Jensen–Shannon distance
  = ``scipy.spatial.distance.jensenshannon``;
* laws: at p_gen = p_real D* = 1/2 and the loss at logit 0 is 2 ln 2 for any
  temperature; D* minimises the pointwise loss; at D* the expected loss is
  2 ln 2 − 2·JS; the two generator losses add up to −mean(u), their gradients
  to −1/(n·T).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, stats
from scipy.spatial.distance import jensenshannon

from bceviz.engine import gan
from bceviz.engine.gan import (
    BEND_SHARPNESS,
    Batch,
    Discriminator,
    GanConfig,
    GanParams,
    Mixture,
    density_grid,
    discriminator_gradient,
    discriminator_loss,
    discriminator_step,
    evaluate,
    generate,
    generator_gradient,
    generator_loss,
    generator_loss_grad,
    generator_objective,
    generator_pdf,
    generator_step,
    initial_params,
    invert_bend,
    js_distance,
    js_divergence,
    optimal_discriminator,
    optimal_discriminator_loss,
    training_round,
)

F = torch.nn.functional
LN2 = math.log(2.0)
RNG = np.random.default_rng(17)
#: Logits from a confident-wrong −40 to a confident-right +40, and ordinary ones.
LOGITS = np.concatenate([[-40.0, -25.0, -3.0, 0.0, 0.7, 12.0, 40.0], RNG.normal(0.0, 4.0, 57)])
TEMPERATURES = (0.25, 1.0, 3.0)


def _t(values) -> torch.Tensor:
    return torch.as_tensor(np.asarray(values, dtype=np.float64))


def _close(actual, expected, rtol=1e-12, atol=0.0):
    np.testing.assert_allclose(np.asarray(actual, float), np.asarray(expected, float),
                               rtol=rtol, atol=atol)


# --------------------------------------------------------------------------- the contract
@pytest.mark.parametrize("real_label", [1.0, 0.9, 0.75])
@pytest.mark.parametrize("temperature", TEMPERATURES)
def test_discriminator_loss_is_torch_bce_with_real_label_and_zero(real_label, temperature):
    real = LOGITS
    fake = RNG.normal(-1.0, 6.0, 40)
    bce = torch.nn.BCEWithLogitsLoss()
    ur, uf = _t(real) / temperature, _t(fake) / temperature
    expected = (bce(ur, torch.full_like(ur, real_label)) + bce(uf, torch.zeros_like(uf))).item()
    _close(discriminator_loss(real, fake, real_label=real_label, temperature=temperature),
           expected)


@pytest.mark.parametrize("temperature", TEMPERATURES + (10.0,))
def test_loss_at_logit_zero_is_two_ln_two_for_any_temperature(temperature):
    zeros = np.zeros(9)
    _close(discriminator_loss(zeros, zeros[:4], temperature=temperature), 2.0 * LN2)


@pytest.mark.parametrize("kind", gan.LOSS_KINDS)
@pytest.mark.parametrize("temperature", TEMPERATURES)
def test_generator_loss_and_grad_match_logsigmoid_forms_and_autograd(kind, temperature):
    z = _t(LOGITS).requires_grad_(True)
    u = z / temperature
    # saturating: mean log(1 − σ(u)) = mean logsigmoid(−u); non-saturating: mean −logsigmoid(u)
    loss = F.logsigmoid(-u).mean() if kind == "saturating" else -F.logsigmoid(u).mean()
    (grad,) = torch.autograd.grad(loss, z)
    _close(generator_loss(LOGITS, kind=kind, temperature=temperature), loss.item())
    got = generator_loss_grad(LOGITS, kind=kind, temperature=temperature)
    assert got.shape == LOGITS.shape
    # Full relative precision for every logit, ±40 included (σ(−40) ≈ 4e-18).
    _close(got, grad.numpy(), rtol=1e-12)


def test_saturating_gradient_vanishes_where_discriminator_wins():
    n = 4
    z = np.array([-40.0, -20.0, -10.0, 0.0])
    sat = generator_loss_grad(z, kind="saturating")
    ns = generator_loss_grad(z, kind="non_saturating")
    assert sat[0] == pytest.approx(-math.exp(-40.0) / (1 + math.exp(-40.0)) / n, rel=1e-14)
    assert abs(sat[2]) < 1e-4 * abs(ns[2])  # σ(−10) ≈ 4.5e-5
    _close(ns[0], -1.0 / n, rtol=1e-15)
    _close(sat[3], ns[3])


@given(st.lists(st.floats(-60, 60), min_size=1, max_size=30),
       st.floats(0.05, 20.0), )
@settings(max_examples=60, deadline=None)
def test_generator_losses_and_gradients_add_up(logits, temperature):
    z = np.asarray(logits)
    u = z / temperature
    total = generator_loss(z, kind="saturating", temperature=temperature) \
        + generator_loss(z, kind="non_saturating", temperature=temperature)
    assert total == pytest.approx(-np.mean(u), rel=1e-9, abs=1e-9 * (1 + np.abs(u).max()))
    g = generator_loss_grad(z, kind="saturating", temperature=temperature) \
        + generator_loss_grad(z, kind="non_saturating", temperature=temperature)
    _close(g, np.full(z.size, -1.0 / (z.size * temperature)), rtol=1e-9)


def test_optimal_discriminator_is_half_at_equal_densities_and_uses_real_label():
    p = np.array([0.0, 1e-300, 0.2, 3.0])
    _close(optimal_discriminator(p, p), 0.5)
    _close(optimal_discriminator(p, p, real_label=0.9), 0.45)
    _close(optimal_discriminator([1.0, 0.0], [0.0, 1.0]), [1.0, 0.0])


@given(st.floats(1e-6, 10.0), st.floats(1e-6, 10.0), st.floats(0.0, 1.0))
@settings(max_examples=60, deadline=None)
def test_optimal_discriminator_minimises_the_pointwise_loss(p_real, p_gen, real_label):
    """D* = a p_r / (p_r + p_g) minimises p_r BCE(D, a) + p_g BCE(D, 0) (scipy's minimiser)."""
    def pointwise(z):
        return p_real * discriminator_loss([z], [0.0], real_label=real_label) \
            - p_real * math.log(2.0) + p_gen * discriminator_loss([0.0], [z]) - p_gen * math.log(2.0)

    best = optimize.minimize_scalar(pointwise, bounds=(-30, 30), method="bounded",
                                    options={"xatol": 1e-10})
    d_star = float(optimal_discriminator(p_real, p_gen, real_label=real_label))
    if 1e-9 < d_star < 1 - 1e-9 and abs(best.x) < 29:
        assert 1.0 / (1.0 + math.exp(-best.x)) == pytest.approx(d_star, abs=1e-5)


def test_loss_at_the_optimal_discriminator_is_two_ln_two_minus_twice_js():
    x = density_grid(4001)
    dx = x[1] - x[0]
    p_real = Mixture((-1.0, 2.0), (0.6, 0.8), (1.0, 2.0)).pdf(x)
    p_gen = generator_pdf(x, 0.5, 1.3)
    d = np.clip(optimal_discriminator(p_real, p_gen), 1e-300, 1 - 1e-16)
    z = np.log(d) - np.log1p(-d)
    from bceviz.engine.losses import loss_from_logits

    expected_loss = (np.sum(p_real * loss_from_logits(z, 1.0)) + np.sum(p_gen * loss_from_logits(z, 0.0))) * dx
    jsd = js_divergence(p_real, p_gen)
    assert expected_loss == pytest.approx(2 * LN2 - 2 * jsd, abs=1e-6)
    assert optimal_discriminator_loss(p_real, p_gen) == pytest.approx(2 * LN2 - 2 * jsd, rel=1e-12)
    assert optimal_discriminator_loss(p_real, p_real) == pytest.approx(2 * LN2, rel=1e-12)


@pytest.mark.parametrize("real_label", [1.0, 0.9, 0.6])
def test_optimal_discriminator_loss_is_the_loss_of_d_star_on_the_grid(real_label):
    """The closed form = discriminator_loss's pointwise terms at D*, weighted by the masses."""
    from bceviz.engine.losses import loss_from_logits

    x = density_grid(801)
    p_real = Mixture((1.0,), (0.8,), (1.0,)).pdf(x)
    p_gen = generator_pdf(x, -0.5, 1.1, 0.7)
    d = optimal_discriminator(p_real, p_gen, real_label=real_label)
    z = np.log(np.maximum(d, 1e-300)) - np.log1p(-d)
    wr, wg = p_real / p_real.sum(), p_gen / p_gen.sum()
    direct = np.sum(wr * loss_from_logits(z, real_label)) + np.sum(wg * loss_from_logits(z, 0.0))
    assert optimal_discriminator_loss(p_real, p_gen, real_label=real_label) \
        == pytest.approx(direct, rel=1e-9)


# --------------------------------------------------------------------------- validation
@pytest.mark.parametrize("call, match", [
    (lambda: discriminator_loss([], [0.0]), "real_logits"),
    (lambda: discriminator_loss([np.nan], [0.0]), "real_logits"),
    (lambda: discriminator_loss([0.0], [np.inf]), "fake_logits"),
    (lambda: discriminator_loss([0.0], [0.0], temperature=0.0), "temperature"),
    (lambda: discriminator_loss([0.0], [0.0], temperature=float("nan")), "temperature"),
    (lambda: discriminator_loss([0.0], [0.0], real_label=1.1), "real_label"),
    (lambda: generator_loss([0.0], kind="minimax"), "kind"),
    (lambda: generator_loss_grad([0.0], temperature=-1.0), "temperature"),
    (lambda: optimal_discriminator([-1.0], [1.0]), "p_real"),
    (lambda: Mixture((0.0, 1.0), (1.0,), (1.0, 1.0)), "same length"),
    (lambda: Mixture((9.0,), (1.0,), (1.0,)), "means"),
    (lambda: Mixture((0.0,), (0.0,), (1.0,)), "widths"),
    (lambda: Mixture((0.0,), (1.0,), (0.0,)), "weights"),
    (lambda: Mixture((0.0,) * 4, (1.0,) * 4, (1.0,) * 4), "1 to 3"),
    (lambda: Discriminator("spline", 3), "kind"),
    (lambda: Discriminator("polynomial", 7), "size"),
    (lambda: Discriminator("radial", 1), "size"),
    (lambda: GanConfig(lr_d=0.0), "lr_d"),
    (lambda: GanConfig(batch_size=0), "batch_size"),
    (lambda: GanConfig(d_steps=2.5), "d_steps"),
    (lambda: js_divergence([0.0, 0.0], [1.0, 1.0]), "p"),
    (lambda: js_divergence([1.0], [1.0, 1.0]), "same grid"),
])
def test_bad_arguments_name_themselves(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# --------------------------------------------------------------------------- densities
def test_mixture_density_is_scipy_normal_mixture_and_samples_follow_it():
    mix = Mixture((-2.0, 0.5, 3.0), (0.5, 1.0, 0.3), (1.0, 2.0, 1.0))
    x = np.linspace(-8, 8, 301)
    ref = sum(w / 4.0 * stats.norm.pdf(x, m, s) for m, s, w in zip(mix.means, mix.widths, mix.weights))
    _close(mix.pdf(x), ref, rtol=1e-12, atol=1e-300)
    _close(mix.component_pdfs(x).sum(axis=0), mix.pdf(x))
    draws = mix.sample(np.random.default_rng(3), 40_000)

    def cdf(v):
        return sum(w / 4.0 * stats.norm.cdf(v, m, s) for m, s, w in zip(mix.means, mix.widths, mix.weights))

    assert stats.kstest(draws, cdf).pvalue > 1e-3


@pytest.mark.parametrize("bend", [0.0, -0.4, 0.8, 4.0])
def test_generator_density_is_change_of_variables(bend):
    mu, sigma = 0.7, 0.9
    x = np.linspace(-8, 8, 61)

    def h(e):
        return e + bend * math.tanh(BEND_SHARPNESS * e)

    ref = []
    for xi in x:
        t = (xi - mu) / sigma
        e = optimize.brentq(lambda v, t=t: h(v) - t, -40, 40, xtol=1e-14)
        slope = 1 + bend * BEND_SHARPNESS / math.cosh(BEND_SHARPNESS * e) ** 2
        ref.append(stats.norm.pdf(e) / (sigma * slope))
    _close(generator_pdf(x, mu, sigma, bend), ref, rtol=1e-9, atol=1e-300)
    _close(generate(invert_bend((x - mu) / sigma, bend), mu, sigma, bend), x, rtol=1e-12, atol=1e-12)
    fine = density_grid(20001)
    assert np.sum(generator_pdf(fine, mu, sigma, bend)) * (fine[1] - fine[0]) \
        == pytest.approx(1.0, abs=2e-3 if bend == 4.0 else 1e-6)


def test_js_distance_is_scipy_jensenshannon_base_two():
    x = density_grid()
    cases = [
        (Mixture((2.0,), (0.5,), (1.0,)).pdf(x), generator_pdf(x, -3.0, 1.0)),
        (Mixture((-2.5, 2.5), (0.5, 0.5), (1.0, 1.0)).pdf(x), generator_pdf(x, 0.0, 2.6)),
        (RNG.random(x.size), RNG.random(x.size)),
    ]
    for p, q in cases:
        _close(js_distance(p, q), jensenshannon(p, q, base=2), rtol=1e-10)
        _close(js_divergence(p, q), jensenshannon(p, q) ** 2, rtol=1e-10)
    p = np.where(x < 0, 1.0, 0.0)
    assert js_distance(p, 1.0 - p) == pytest.approx(1.0)
    assert js_distance(p, p) == 0.0


# --------------------------------------------------------------------------- gradients through G
def _torch_features(x: torch.Tensor, disc: Discriminator) -> torch.Tensor:
    if disc.kind == "polynomial":
        s = x / gan.POLY_SCALE
        return torch.stack([s ** k for k in range(1, disc.size + 1)], dim=1)
    c = _t(disc.centres)
    d = (x[:, None] - c[None, :]) / disc.radial_width
    return torch.exp(-0.5 * d * d)


def _params(disc: Discriminator, rng, mu=0.3, sigma=1.2, bend=0.0) -> GanParams:
    return GanParams(mu=mu, sigma=sigma, bend=bend, d_weights=rng.normal(0, 1.5, disc.n_features),
                     d_bias=float(rng.normal()))


@pytest.mark.parametrize("disc", [Discriminator("polynomial", 1), Discriminator("polynomial", 4),
                                  Discriminator("radial", 7)])
@pytest.mark.parametrize("kind", gan.LOSS_KINDS)
@pytest.mark.parametrize("bend", [0.0, 1.5])
def test_generator_gradient_through_reparameterisation_matches_autograd(disc, kind, bend):
    rng = np.random.default_rng(5)
    params = _params(disc, rng, bend=bend)
    temperature = 1.7
    config = GanConfig(discriminator=disc, loss_kind=kind, temperature=temperature)
    eps = rng.standard_normal(50)
    mu = torch.tensor(params.mu, dtype=torch.float64, requires_grad=True)
    sigma = torch.tensor(params.sigma, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(params.bend, dtype=torch.float64, requires_grad=True)
    e = _t(eps)
    x = mu + sigma * (e + b * torch.tanh(BEND_SHARPNESS * e))
    z = _torch_features(x, disc) @ _t(params.d_weights) + params.d_bias
    u = z / temperature
    loss = F.logsigmoid(-u).mean() if kind == "saturating" else -F.logsigmoid(u).mean()
    loss.backward()
    got = generator_gradient(eps, params, config)
    _close(got, [mu.grad.item(), sigma.grad.item(), b.grad.item()], rtol=1e-10, atol=1e-14)
    # The engine's own logits agree with the torch forward pass.
    _close(disc.logits(generate(eps, params.mu, params.sigma, bend), params.d_weights,
                       params.d_bias), z.detach().numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("disc", [Discriminator("polynomial", 3), Discriminator("radial", 12)])
@pytest.mark.parametrize("real_label", [1.0, 0.9])
def test_discriminator_gradient_matches_autograd_of_bce_with_logits(disc, real_label):
    rng = np.random.default_rng(11)
    params = _params(disc, rng)
    config = GanConfig(discriminator=disc, real_label=real_label, temperature=0.6)
    reals, fakes = rng.normal(2, 1, 30), rng.normal(-1, 2, 20)
    w = _t(params.d_weights).requires_grad_(True)
    c = torch.tensor(params.d_bias, dtype=torch.float64, requires_grad=True)
    ur = (_torch_features(_t(reals), disc) @ w + c) / 0.6
    uf = (_torch_features(_t(fakes), disc) @ w + c) / 0.6
    bce = torch.nn.BCEWithLogitsLoss()
    loss = bce(ur, torch.full_like(ur, real_label)) + bce(uf, torch.zeros_like(uf))
    loss.backward()
    gw, gc = discriminator_gradient(reals, fakes, params, config)
    _close(gw, w.grad.numpy(), rtol=1e-11, atol=1e-15)
    _close(gc, c.grad.item(), rtol=1e-11, atol=1e-15)


@pytest.mark.parametrize("disc", [Discriminator("polynomial", 6), Discriminator("radial", 5)])
def test_logit_slope_matches_autograd(disc):
    rng = np.random.default_rng(2)
    params = _params(disc, rng)
    x = _t(np.linspace(-9, 9, 37)).requires_grad_(True)
    z = _torch_features(x, disc) @ _t(params.d_weights) + params.d_bias
    (slope,) = torch.autograd.grad(z.sum(), x)
    got_z, got_slope = disc.logits_and_slopes(x.detach().numpy(), params.d_weights, params.d_bias)
    _close(got_z, z.detach().numpy(), rtol=1e-12, atol=1e-12)
    _close(got_slope, slope.numpy(), rtol=1e-11, atol=1e-12)


# --------------------------------------------------------------------------- steps
def test_steps_descend_their_own_loss_and_are_reproducible():
    disc = Discriminator("radial", 8)
    config = GanConfig(mixture=Mixture((2.0,), (0.5,), (1.0,)), discriminator=disc,
                       lr_d=0.3, lr_g=0.05)
    params = initial_params(disc, -1.0, 1.0)
    rng = np.random.default_rng(0)
    batch = gan.draw_batch(config, rng)
    fakes = generate(batch.eps, params.mu, params.sigma)

    def d_loss(p):
        return discriminator_loss(disc.logits(batch.reals, p.d_weights, p.d_bias),
                                  disc.logits(generate(batch.eps, p.mu, p.sigma), p.d_weights,
                                              p.d_bias))

    stepped, used = discriminator_step(params, config, rng, batch)
    assert used is batch
    assert d_loss(stepped) < d_loss(params) == pytest.approx(2 * LN2)
    assert np.array_equal(generate(batch.eps, stepped.mu, stepped.sigma), fakes)  # G untouched

    def g_loss(p):
        return generator_loss(disc.logits(generate(batch.eps, p.mu, p.sigma), p.d_weights,
                                          p.d_bias))

    moved, _ = generator_step(stepped, config, rng, batch.eps)
    assert g_loss(moved) < g_loss(stepped)
    assert np.array_equal(moved.d_weights, stepped.d_weights)  # D untouched

    a = training_round(params, replace_steps(config, 3), np.random.default_rng(9))
    b = training_round(params, replace_steps(config, 3), np.random.default_rng(9))
    assert a[0].mu == b[0].mu and np.array_equal(a[0].d_weights, b[0].d_weights)
    assert np.array_equal(a[1].reals, b[1].reals) and a[1].reals.size == 256


def replace_steps(config: GanConfig, k: int) -> GanConfig:
    from dataclasses import replace

    return replace(config, d_steps=k)


def test_bend_is_trained_only_when_asked():
    disc = Discriminator("radial", 6)
    params = _params(disc, np.random.default_rng(4), bend=0.5)
    eps = np.random.default_rng(1).standard_normal(64)
    fixed, _ = generator_step(params, GanConfig(discriminator=disc), None, eps)
    learnt, _ = generator_step(params, GanConfig(discriminator=disc, learn_bend=True), None, eps)
    assert fixed.bend == 0.5 and learnt.bend != 0.5


def test_huge_learning_rates_are_clipped_never_nan():
    disc = Discriminator("polynomial", 6)
    config = GanConfig(discriminator=disc, lr_d=100.0, lr_g=100.0, d_steps=5, learn_bend=True)
    params = initial_params(disc, -5.0, 0.2)
    rng = np.random.default_rng(0)
    for _ in range(40):
        params, batch = training_round(params, config, rng)
    assert np.all(np.isfinite(params.d_weights)) and math.isfinite(params.d_bias)
    assert abs(params.mu) <= gan.MU_LIMIT and gan.SIGMA_RANGE[0] <= params.sigma <= gan.SIGMA_RANGE[1]
    assert gan.BEND_RANGE[0] <= params.bend <= gan.BEND_RANGE[1]
    figures = evaluate(params, config, batch, density_grid())
    assert all(math.isfinite(v) for v in vars(figures).values())


def test_evaluate_figures_at_the_start():
    config = GanConfig(mixture=Mixture((2.0,), (0.5,), (1.0,)))
    params = initial_params(config.discriminator, -3.0, 1.0)
    batch = gan.draw_batch(config, np.random.default_rng(0))
    f = evaluate(params, config, batch, density_grid())
    assert f.d_loss == pytest.approx(2 * LN2)
    assert f.acc_real == f.acc_fake == 0.5  # D = 1/2 everywhere: every call half right
    assert f.g_loss_non_saturating == pytest.approx(LN2) and f.g_loss_saturating == pytest.approx(-LN2)
    assert 0.99 < f.js <= 1.0
    assert f.g_grad_saturating == f.g_grad_non_saturating == 0.0  # a flat D gives no direction


def test_evaluate_matches_a_direct_computation():
    disc = Discriminator("radial", 9)
    config = GanConfig(mixture=Mixture((1.0,), (0.7,), (1.0,)), discriminator=disc,
                       loss_kind="saturating", temperature=2.0, real_label=0.9)
    params = _params(disc, np.random.default_rng(8), mu=-0.5, sigma=0.8)
    rng = np.random.default_rng(1)
    batch = Batch(reals=rng.normal(1, 0.7, 100), eps=rng.standard_normal(100))
    f = evaluate(params, config, batch, density_grid())
    fakes = generate(batch.eps, params.mu, params.sigma)
    zr = disc.logits(batch.reals, params.d_weights, params.d_bias)
    zf = disc.logits(fakes, params.d_weights, params.d_bias)
    assert f.d_loss == discriminator_loss(zr, zf, real_label=0.9, temperature=2.0)
    assert f.g_loss == f.g_loss_saturating == generator_loss(zf, kind="saturating", temperature=2.0)
    assert f.acc_real == np.mean(zr > 0) and f.acc_fake == np.mean(zf < 0)
    g_mu, g_sigma, _ = generator_gradient(batch.eps, params, config)
    assert f.g_grad_saturating == pytest.approx(math.hypot(g_mu, g_sigma), rel=1e-12)


def test_objective_grid_is_the_expected_generator_loss():
    """Gauss–Hermite expectation = a huge Monte Carlo batch's mean loss at a few (μ, σ)."""
    disc = Discriminator("radial", 12)
    params = _params(disc, np.random.default_rng(3))
    for kind in gan.LOSS_KINDS:
        config = GanConfig(discriminator=disc, loss_kind=kind, temperature=1.5)
        mus, sigmas = np.array([-2.0, 0.0, 3.0]), np.array([0.3, 1.0])
        grid = generator_objective(mus, sigmas, params, config, nodes=40)
        assert grid.shape == (2, 3)
        eps = np.random.default_rng(0).standard_normal(200_000)
        for i, s in enumerate(sigmas):
            for j, m in enumerate(mus):
                z = disc.logits(generate(eps, m, s), params.d_weights, params.d_bias)
                assert grid[i, j] == pytest.approx(generator_loss(z, kind=kind, temperature=1.5),
                                                   abs=5e-3)


@pytest.mark.parametrize("kind,size,bend", [("radial", 12, 0.0), ("polynomial", 6, 0.0),
                                            ("radial", 8, 1.5)])
def test_objective_from_prebuilt_features_is_the_same_map(kind, size, bend):
    """The map from features built once equals the map built from scratch, for any weights."""
    disc = Discriminator(kind, size)
    mus, sigmas = np.linspace(-7.0, 7.0, 9), np.linspace(0.05, 4.0, 5)
    feats = gan.objective_features(mus, sigmas, disc, bend, nodes=12)
    assert feats.phi.shape == (5, 9, 12, size) and feats.weights.sum() == pytest.approx(1.0)
    rng = np.random.default_rng(7)
    for loss_kind in gan.LOSS_KINDS:
        params = _params(disc, rng, bend=bend)
        config = GanConfig(discriminator=disc, loss_kind=loss_kind, temperature=0.7)
        fresh = generator_objective(mus, sigmas, params, config, nodes=12)
        reused = generator_objective(mus, sigmas, params, config, nodes=12, features=feats)
        np.testing.assert_allclose(reused, fresh, rtol=1e-9, atol=1e-9)
    other = GanConfig(discriminator=disc)
    with pytest.raises(ValueError, match="features"):
        generator_objective(mus, sigmas, _params(disc, rng, bend=bend + 0.5), other, nodes=12,
                            features=feats)
