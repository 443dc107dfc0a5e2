"""core.central_flow and network.third_derivative: finite differences of exact Hessians, the SDCP's KKT
conditions and closed form, gradient flow before the edge, and the flow's predictions against real GD runs."""

import numpy as np
import pytest
from scipy.optimize import minimize

from core import central_flow, network, training
from core.central_flow import projected_gradient, sigma2_closed_form, smat, solve_sdcp, svec

SMALL = (3, 5, 4, 2)  # 62 parameters: dense Hessians are cheap


def problem(widths, loss, seed, n=7, scale=0.3):
    rng = np.random.default_rng(seed)
    params = network.init_params(widths, seed) + scale * rng.standard_normal(network.n_params(widths))
    X = rng.standard_normal((n, widths[0]))
    y = np.eye(widths[-1])[rng.integers(0, widths[-1], n)] if loss == "ce" else rng.standard_normal((n, widths[-1]))
    return params, X, y


def min_abs_preactivation(params, X, widths):
    """min |z| over the hidden layers: relu's finite differences are valid only away from its kink."""
    h, i, smallest = X, 0, np.inf
    for fan_in, fan_out in zip(widths[:-2], widths[1:-1], strict=True):
        W = params[i : i + fan_in * fan_out].reshape(fan_in, fan_out)
        i += fan_in * fan_out
        z = h @ W + params[i : i + fan_out]
        i += fan_out
        smallest = min(smallest, np.abs(z).min())
        h = np.maximum(z, 0)
    return smallest


# ---------------------------------------------------------------- the third derivative


@pytest.mark.parametrize("activation", network.ACTIVATIONS)
def test_activation_third_derivative_matches_finite_differences(activation):
    z = np.linspace(-4, 4, 81) + 0.013  # off relu's kink
    eps = 1e-5
    _, _, _, d3 = network._act3(z, activation)
    _, _, d2_plus = network.activation_derivatives(z + eps, activation)
    _, _, d2_minus = network.activation_derivatives(z - eps, activation)
    np.testing.assert_allclose(d3, (d2_plus - d2_minus) / (2 * eps), atol=1e-8)


@pytest.mark.parametrize("loss", network.LOSSES)
@pytest.mark.parametrize("activation", network.ACTIVATIONS)
def test_third_derivative_matches_finite_differences_of_the_dense_hessian(activation, loss):
    """D³L[u, v, e_j] = ∂_j (uᵀH v), by central differences of the exact dense Hessian along every e_j."""
    params, X, y = problem(SMALL, loss, seed=3)
    P = len(params)
    rng = np.random.default_rng(7)
    u, v = rng.standard_normal(P), rng.standard_normal(P)
    eps = 1e-4
    if activation == "relu":
        assert min_abs_preactivation(params, X, SMALL) > 1e-3  # every ±ε·e_j stays on one side of the kink
    expected = np.empty(P)
    for j in range(P):
        e = np.zeros(P)
        e[j] = eps
        h_plus = network.hessian(params + e, X, y, SMALL, activation, loss)
        h_minus = network.hessian(params - e, X, y, SMALL, activation, loss)
        expected[j] = u @ (h_plus - h_minus) @ v / (2 * eps)
    got = network.third_derivative(params, X, y, u, v, SMALL, activation, loss)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6 * np.abs(expected).max())


@pytest.mark.parametrize("loss", network.LOSSES)
@pytest.mark.parametrize("activation", ["swish", "tanh", "softplus"])
def test_third_derivative_is_symmetric_and_its_first_parts_are_the_hvp(activation, loss):
    params, X, y = problem(SMALL, loss, seed=5)
    rng = np.random.default_rng(1)
    u, v, w = rng.standard_normal((3, len(params)))
    d_uv = network.third_derivative(params, X, y, u, v, SMALL, activation, loss)
    d_uw = network.third_derivative(params, X, y, u, w, SMALL, activation, loss)
    d_vw = network.third_derivative(params, X, y, v, w, SMALL, activation, loss)
    assert d_uv @ w == pytest.approx(d_uw @ v, rel=1e-10)
    assert d_uv @ w == pytest.approx(d_vw @ u, rel=1e-10)
    assert np.abs(d_uv @ w) > 1e-3  # a real third derivative, not zero
    Xa, yT = network._augment(X), np.ascontiguousarray(y.T)
    hu, hv, _ = network._third_pass(params, Xa, yT, network._layout(SMALL), activation, loss, u, v)
    np.testing.assert_allclose(hu, network.hvp(params, X, y, u, SMALL, activation, loss), atol=1e-13)
    np.testing.assert_allclose(hv, network.hvp(params, X, y, v, SMALL, activation, loss), atol=1e-13)


def test_third_derivative_of_a_linear_model_is_zero():
    """L = (1/2n)‖Xw + b − y‖² is quadratic in θ: every third derivative vanishes."""
    params, X, y = problem((4, 1), "mse", seed=2)
    rng = np.random.default_rng(0)
    u, v = rng.standard_normal((2, len(params)))
    assert np.abs(network.third_derivative(params, X, y, u, v, (4, 1), "linear", "mse")).max() < 1e-14


def test_third_derivative_rejects_wrong_shapes():
    params, X, y = problem(SMALL, "mse", seed=0)
    with pytest.raises(ValueError, match="u and v"):
        network.third_derivative(params, X, y, np.ones(3), np.ones(len(params)), SMALL)


# ---------------------------------------------------------------- the SDCP


def kkt(alpha, gram, X):
    """(min eig X, min eig Y, |⟨X, Y⟩|) with Y = α + 𝔅[X]."""
    Y = alpha + smat(gram @ svec(X), alpha.shape[0])
    return np.linalg.eigvalsh(X)[0], np.linalg.eigvalsh(Y)[0], abs(np.sum(X * Y))


def test_svec_is_an_isometry():
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((2, 3, 3))
    A, B = A + A.T, B + B.T
    assert svec(A) @ svec(B) == pytest.approx(np.sum(A * B), rel=1e-14)
    np.testing.assert_allclose(smat(svec(A), 3), A, atol=1e-15)


@pytest.mark.parametrize("seed", range(20))
def test_k1_closed_form_matches_the_sdcp_solvers(seed):
    rng = np.random.default_rng(seed)
    alpha, b = rng.normal(), rng.uniform(0.01, 10)
    expected = sigma2_closed_form(alpha, b)
    assert expected == max(0.0, -alpha / b)
    for solver in (solve_sdcp, projected_gradient):
        X = solver(np.array([[alpha]]), np.array([[b]]))
        assert X[0, 0] == pytest.approx(expected, rel=1e-9, abs=1e-15)


def random_instance(k, rank, rng):
    """An SDCP with a known solution X* of the given rank: Y* ⪰ 0 on X*'s null space, α = Y* − 𝔅[X*]."""
    m = k * (k + 1) // 2
    Q = np.linalg.qr(rng.standard_normal((k, k)))[0]
    X_star = (Q[:, :rank] * rng.uniform(0.5, 2, rank)) @ Q[:, :rank].T
    Y_star = (Q[:, rank:] * rng.uniform(0.5, 2, k - rank)) @ Q[:, rank:].T
    T = rng.standard_normal((m + 2, m))
    gram = T.T @ T  # positive definite: the solution is unique
    alpha = Y_star - smat(gram @ svec(X_star), k)
    return alpha, gram, X_star


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("rank", [0, 1, 2, 3])
@pytest.mark.parametrize("seed", range(5))
def test_sdcp_recovers_known_solutions_of_every_rank(k, rank, seed):
    if rank > k:
        return
    alpha, gram, X_star = random_instance(k, rank, np.random.default_rng(100 * k + 10 * rank + seed))
    for solver in (solve_sdcp, projected_gradient):
        X = solver(alpha, gram)
        np.testing.assert_allclose(X, X_star, atol=1e-8 * max(1.0, np.abs(X_star).max()))
        lam_x, lam_y, gap = kkt(alpha, gram, X)
        scale = np.abs(alpha).max() * max(1.0, np.abs(X_star).max())
        assert lam_x >= -1e-10 and lam_y >= -1e-8 * scale and gap <= 1e-8 * scale


@pytest.mark.parametrize("seed", range(10))
def test_sdcp_minimises_the_quadratic_over_the_psd_cone_brute_force(seed):
    """Against the objective ½⟨X, 𝔅X⟩ + ⟨α, X⟩ minimised over X = LLᵀ from many random starts (BFGS)."""
    rng = np.random.default_rng(seed)
    k, m = 2, 3
    alpha = rng.standard_normal((k, k))
    alpha = alpha + alpha.T
    T = rng.standard_normal((m, m)) * rng.uniform(0.1, 2, m)  # sometimes badly conditioned
    gram = T.T @ T

    def objective(x):
        return 0.5 * x @ gram @ x + svec(alpha) @ x

    def factored(flat):
        L = flat.reshape(k, k)
        return objective(svec(L @ L.T))

    best = min(minimize(factored, rng.standard_normal(k * k), method="BFGS", tol=1e-14).fun for _ in range(20))
    X = solve_sdcp(alpha, gram)
    assert np.linalg.eigvalsh(X)[0] >= -1e-12
    assert objective(svec(X)) <= best + 1e-9 * max(1.0, abs(best))


def test_sdcp_is_zero_when_alpha_is_psd():
    gram = np.eye(3)
    assert not solve_sdcp(np.diag([1.0, 0.5]), gram).any()


# ---------------------------------------------------------------- the flow


@pytest.fixture(scope="module")
def default_pair():
    """The acceptance problem: gaussian, 8-16-16-1 swish, n = 128, η = 0.2, 1,000 steps."""
    return central_flow.run(0.2, 1000), training.train(0.2, 1000)


def windows(flow, gd, width=100):
    """Predicted over GD's mean loss in windows of `width` steps that end after the flow's edge step."""
    edge = flow["edge_step"]
    ratios = []
    for start in range(0, len(gd["loss"]) - 1, width):
        if start + width > edge:
            stop = start + width
            ratios.append(np.mean(flow["predicted_loss"][start:stop]) / np.mean(gd["loss"][start:stop]))
    return np.array(ratios)


def test_before_the_edge_the_central_flow_is_gradient_flow(default_pair):
    flow, _ = default_pair
    edge = flow["edge_step"]
    assert 200 < edge < 400
    reference = training.gradient_flow(0.2, 1000, with_sharpness=False, rtol=1e-10, atol=1e-12, max_seconds=60)
    before = flow["param_steps"] < edge
    ref_rows = np.searchsorted(reference["step"], flow["param_steps"][before])
    assert np.array_equal(reference["step"][ref_rows], flow["param_steps"][before])
    theirs = reference["params"][ref_rows]
    ours = flow["param_history"][before]
    relative = np.linalg.norm(ours - theirs, axis=1) / np.linalg.norm(theirs, axis=1)
    assert relative.max() < 1e-6
    np.testing.assert_allclose(flow["loss"][flow["param_steps"][before]], reference["loss"][ref_rows], rtol=1e-6)
    assert (flow["sigma2"][:edge] == 0).all() and (flow["predicted_loss"][:edge] == flow["loss"][:edge]).all()
    # And the sharpness recorded is the true λ_max there (dense Hessian of the 433-parameter model).
    t = int(flow["param_steps"][before][-1])
    X, y = training._problem((8, 16, 16, 1), "swish", "mse", "gaussian", 128, 0, None)[1:]
    dense = np.linalg.eigvalsh(network.hessian(flow["param_history"][before][-1], X, y, (8, 16, 16, 1)))[-1]
    assert flow["sharpness"][t] == pytest.approx(dense, rel=1e-8)


def test_flow_sharpness_is_pinned_at_two_over_eta(default_pair):
    flow, _ = default_pair
    ratio = flow["sharpness"] / flow["threshold"]
    assert np.isfinite(ratio).all()
    assert ratio.max() <= 1.005  # never more than 0.5 % above 2/η
    reached = np.flatnonzero(ratio >= 0.999)
    assert len(reached) and reached[0] < 400
    assert np.abs(ratio[reached[0] :] - 1).max() <= 0.01  # after reaching 2/η, within 1 % of it
    assert (flow["sigma2"][reached[0] :, 0] > 0).mean() > 0.9  # held there by Σ, not by luck


def test_predicted_loss_tracks_gd_on_the_default_problem(default_pair):
    flow, gd = default_pair
    ratios = windows(flow, gd)
    assert len(ratios) >= 7
    assert np.abs(ratios - 1).max() <= 0.15
    # Without the tr Σ/η term the flow's own loss falls well below GD's: the correction is what predicts.
    last = slice(900, 1000)
    assert np.mean(flow["loss"][last]) < 0.7 * np.mean(gd["loss"][last])


@pytest.mark.parametrize("lr, seed", [(0.3, 0), (0.2, 3)])
def test_predicted_loss_tracks_gd_on_other_configurations(lr, seed):
    flow, gd = central_flow.run(lr, 1000, seed=seed), training.train(lr, 1000, seed=seed)
    assert 0 <= flow["edge_step"] < 500
    ratios = windows(flow, gd)
    assert abs(np.median(ratios) - 1) <= 0.10
    assert np.abs(ratios - 1).max() <= 0.25


def test_sigma2_predicts_gd_oscillation_along_the_top_direction(default_pair):
    flow, gd = default_pair
    d = central_flow.displacement(gd, flow)
    late = d["step"] >= 600  # after GD's catapult transient has settled
    measured, predicted = np.mean(d["displacement"][late] ** 2), np.mean(d["sigma2"][late])
    assert predicted > 0
    assert measured / predicted == pytest.approx(1.0, abs=0.15)


def test_two_eigenvalues_at_the_edge_are_held_together():
    """tanh at η = 0.3: a second eigenvalue joins at step ≈ 190; the 2 × 2 SDCP holds both at 2/η."""
    flow = central_flow.run(0.3, 300, activation="tanh")
    two = flow["n_critical"] >= 2
    assert two.sum() > 50
    tracked = flow["eigenvalues"][:, :3] / flow["threshold"]
    assert np.nanmax(tracked) <= 1.005
    assert (flow["sigma2"][two, 1] > 0).mean() > 0.9  # Σ has rank 2 there, not just one direction
    assert (flow["sigma2"][:, 0] >= flow["sigma2"][:, 1]).all()
    joined = np.flatnonzero(two & (tracked[:, 1] >= 0.999))[0]  # λ₂ rises from 1.95/η to the edge first
    assert np.abs(tracked[joined:][two[joined:], :2] - 1).max() <= 0.01


def test_running_mean_is_a_centred_window_mean():
    values = np.arange(10.0)
    np.testing.assert_allclose(central_flow.running_mean(values, 3)[1:-1], values[1:-1])
    assert central_flow.running_mean(values, 3)[0] == pytest.approx(1.0)  # shifted inward: (0 + 1 + 2)/3
    assert central_flow.running_mean(values, 10)[5] == pytest.approx(4.5)
    with_nan = values.copy()
    with_nan[4] = np.nan
    assert central_flow.running_mean(with_nan, 3)[4] == pytest.approx(4.0)
    np.testing.assert_allclose(central_flow.running_mean(values[:3], 20), 1.0)  # longer than the series: its mean
    assert central_flow.running_mean(np.array([]), 5).size == 0


def test_record_shapes_and_callback():
    calls = []
    flow = central_flow.run(0.2, 30, record_every=7, callback=lambda part, t: calls.append(t))
    assert flow["loss"].shape == flow["predicted_loss"].shape == flow["sharpness"].shape == (31,)
    assert flow["sigma2"].shape == (31, central_flow.MAX_CRITICAL)
    assert flow["eigenvalues"].shape == (31, central_flow.MAX_CRITICAL + 1)
    assert list(flow["param_steps"]) == [0, 7, 14, 21, 28, 30]
    assert flow["param_history"].shape == flow["direction_history"].shape == (6, 433)
    np.testing.assert_allclose(np.linalg.norm(flow["direction_history"], axis=1), 1.0, rtol=1e-12)
    assert calls and calls[-1] == 30
    assert flow["success"] and flow["stopped_at"] == -1 and flow["hvp_count"] > 0
    assert flow["threshold"] == 10.0


def test_runs_are_deterministic():
    a, b = central_flow.run(0.3, 200), central_flow.run(0.3, 200)
    np.testing.assert_array_equal(a["predicted_loss"], b["predicted_loss"])
    np.testing.assert_array_equal(a["params"], b["params"])


def test_relu_gradient_flow_part_is_euler_with_the_substeps():
    """relu's kinks stall adaptive integrators: before the edge its flow is 4 Euler substeps per step, i.e. GD
    with η/4 for 4× the steps (edge at step ≈ 120 here)."""
    flow = central_flow.run(0.2, 50, activation="relu")
    assert flow["edge_step"] == -1
    gd = training.train(0.05, 200, activation="relu")
    np.testing.assert_allclose(flow["params"], gd["params"], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(flow["loss"], gd["loss"][::4], rtol=1e-12)


def test_out_of_time_stops_cleanly_with_nan_rows():
    flow = central_flow.run(0.2, 1000, max_seconds=0.0)
    assert not flow["success"] and "out of time" in flow["message"]
    stopped = flow["stopped_at"]
    assert 0 < stopped < 1000
    assert np.isnan(flow["loss"][stopped:]).all() and np.isfinite(flow["loss"][:stopped]).all()


def test_huge_learning_rate_does_not_raise():
    flow = central_flow.run(50.0, 50)
    assert flow["stopped_at"] >= 0 or np.isfinite(flow["loss"]).all()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"lr": -1.0}, "learning rate"),
        ({"lr": float("nan")}, "learning rate"),
        ({"steps": -3}, "steps"),
        ({"steps": 10**9}, "steps"),
        ({"substeps": 0}, "substeps"),
        ({"critical": 2.5}, "critical"),
        ({"record_every": 0}, "record_every"),
        ({"widths": (3, 1)}, "inputs"),
        ({"activation": "sigmoid"}, "activation"),
    ],
)
def test_bad_arguments_raise_value_error(kwargs, message):
    args = {"lr": 0.2, "steps": 10, **kwargs}
    with pytest.raises(ValueError, match=message):
        central_flow.run(**args)
