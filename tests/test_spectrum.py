"""core.spectrum: parsing without eval, presets deterministic by seed, uploads, clear rejections."""

import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import spectrum as sp


def test_parse_separators_and_scientific_notation():
    np.testing.assert_array_equal(sp.parse("1, 2.5\n3e-2 ; -4E1\t5"), [1, 2.5, 0.03, -40, 5])


@pytest.mark.parametrize(
    "text,fragment",
    [
        ("", "empty"),
        ("1, two, 3", "Item #2, 'two'"),
        ("1, nan", "not finite"),
        ("inf", "not finite"),
        ("__import__('os')", "is not a number"),
        ("1e400", "not finite"),
        ("1e200", "magnitudes up to"),
    ],
)
def test_parse_rejections_say_what_and_where(text, fragment):
    with pytest.raises(ValueError, match=fragment.replace("(", r"\(").replace("#", "#")):
        sp.parse(text)


def test_parse_caps():
    with pytest.raises(ValueError, match="at most 10,000"):
        sp.parse(" ".join(["1"] * 10_001))
    with pytest.raises(ValueError, match="characters long"):
        sp.parse("1" * (sp.MAX_TEXT_CHARS + 1))


@given(st.text(max_size=300))
@settings(max_examples=500, deadline=None)
def test_any_string_gives_eigenvalues_or_a_value_error(text):
    try:
        lam = sp.parse(text)
    except ValueError as exc:
        assert str(exc)  # a message, never empty
    else:
        assert lam.ndim == 1 and 1 <= lam.size <= sp.MAX_EIGENVALUES and np.all(np.isfinite(lam))


@given(st.lists(st.floats(-1e100, 1e100, allow_nan=False), min_size=1, max_size=50))
def test_format_list_round_trips(values):
    np.testing.assert_array_equal(sp.parse(sp.format_list(values)), values)


@pytest.mark.parametrize("name", list(sp.PRESETS))
def test_presets_deterministic_by_seed_and_sized(name):
    a = sp.preset(name, n=200, seed=1)
    b = sp.preset(name, n=200, seed=1)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (200,) and np.all(np.isfinite(a))


def test_preset_formulas():
    np.testing.assert_allclose(sp.evenly_spaced(3, 1, 3), [1, 2, 3])
    np.testing.assert_allclose(sp.log_spaced(3, 0.01, 1), [0.01, 0.1, 1])
    np.testing.assert_allclose(sp.power_law(4, 8.0, 1.0), [8, 4, 8 / 3, 2])
    c = sp.two_clusters(10, 1.0, 10.0, 0.2, 0.0)
    assert sorted(c) == [1.0] * 8 + [10.0] * 2
    assert not np.array_equal(sp.two_clusters(50, seed=1), sp.two_clusters(50, seed=2))
    nn = sp.neural_net_like(100, n_outliers=3, lam_max=10.0, bulk_scale=0.1)
    assert nn.max() == 10.0 and np.sum(nn > 0.5) == 3
    # The bulk lies in the Marchenko–Pastur support σ²[(1 − √q)², (1 + √q)²], q = ½.
    bulk = nn[:-3]
    assert bulk.min() >= 0.1 * (1 - np.sqrt(0.5)) ** 2 - 1e-12 and bulk.max() <= 0.1 * (1 + np.sqrt(0.5)) ** 2


def test_preset_rejections():
    with pytest.raises(ValueError, match="λ_min ≤ λ_max"):
        sp.evenly_spaced(5, 2.0, 1.0)
    with pytest.raises(ValueError, match="0 < λ_min"):
        sp.log_spaced(5, 0.0, 1.0)
    with pytest.raises(ValueError, match="1 … 10,000"):
        sp.evenly_spaced(10_001)
    with pytest.raises(ValueError, match="Unknown preset"):
        sp.preset("nope")


def test_matrix_upload_csv_and_npy_give_eigvalsh():
    rng = np.random.default_rng(0)
    m = rng.standard_normal((6, 6))
    a = m @ m.T
    csv = "\n".join(",".join(repr(float(x)) for x in row) for row in a).encode()
    np.testing.assert_allclose(sp.from_file("a.csv", csv), np.linalg.eigvalsh(a), rtol=1e-12)
    buf = io.BytesIO()
    np.save(buf, a)
    np.testing.assert_allclose(sp.from_file("a.npy", buf.getvalue()), np.linalg.eigvalsh(a), rtol=1e-12)
    # A single column is a list of eigenvalues.
    np.testing.assert_array_equal(sp.from_file("l.csv", b"1\n2\n3\n"), [1, 2, 3])


def test_matrix_upload_rejections():
    with pytest.raises(ValueError, match="not symmetric"):
        sp.from_file("a.csv", b"1,2\n3,4\n")
    with pytest.raises(ValueError, match="shape"):
        sp.from_file("a.csv", b"1,2,3\n4,5,6\n")
    with pytest.raises(ValueError, match="Line 2, column 2"):
        sp.from_file("a.csv", b"1,2\n2,x\n")
    with pytest.raises(ValueError, match="same length"):
        sp.from_file("a.csv", b"1,2\n2\n")
    with pytest.raises(ValueError, match="only .csv"):
        sp.from_file("a.pkl", b"\x80\x04")
    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="not a readable .npy"):
        sp.from_file("evil.npy", buf.getvalue())
    buf = io.BytesIO()
    np.save(buf, np.eye(sp.MAX_MATRIX_SIZE + 1))
    with pytest.raises(ValueError, match="at most 1,000 × 1,000"):
        sp.from_file("big.npy", buf.getvalue())


def test_negative_eigenvalues_are_accepted():
    assert sp.parse("-1, 2")[0] == -1
