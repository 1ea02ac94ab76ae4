"""Butler-Volmer with a CEI film: analytic limits.

References: the exact Butler-Volmer relation (no film), the small-signal charge-transfer
resistance R T / (F i0) at alpha 1/2 with the film's resistance in series
(shared/reference/solver-references.md), the film-limited (Ohmic) regime, and the derivative by
finite differences.
"""

import numpy as np
import pytest

from electrovox.solvers.echem.kinetics import R_GAS, F, butler_volmer


def test_no_film_is_the_explicit_relation():
    eta = np.linspace(-0.2, 0.2, 41)
    i, _ = butler_volmer(eta, 3.0, 298.15, 0.4, 0.6)
    f = F / (R_GAS * 298.15)
    assert np.allclose(i, 3.0 * (np.exp(0.4 * f * eta) - np.exp(-0.6 * f * eta)), rtol=1e-14, atol=0)


def test_film_in_series_small_signal_and_ohmic_limit():
    """Near equilibrium the interface is R_ct + R_film in series (rel 1e-6 at 1e-7 V); far from it,
    with a resistive film, the current tends to eta / R_film (the film limits)."""
    T, i0 = 298.15, 5.0
    for r in (0.0, 1e-3, 0.1):
        i, g = butler_volmer(1e-7, i0, T, r_film=r)
        assert 1e-7 / i == pytest.approx(R_GAS * T / (F * i0) + r, rel=1e-6)
    i, _ = butler_volmer(-2.0, i0, T, r_film=0.1)
    # alpha 1/2: the kinetic share is (2 RT/F) asinh(i / 2 i0), ~0.07 V of the 2 V: the film carries the rest
    eta_ct = 2 * R_GAS * T / F * np.arcsinh(i / (2 * i0))
    assert i == pytest.approx((-2.0 - eta_ct) / 0.1, rel=1e-10)
    assert i == pytest.approx(-2.0 / 0.1, rel=0.05)


def test_the_film_takes_its_share_and_the_derivative_is_consistent():
    eta = np.linspace(-0.3, 0.3, 31)
    r = np.full_like(eta, 0.02)
    i, g = butler_volmer(eta, 2.0, 310.0, 0.5, 0.5, r_film=r)
    i_ct, _ = butler_volmer(eta - i * r, 2.0, 310.0, 0.5, 0.5)   # the kinetics at the reduced overpotential
    assert np.allclose(i, i_ct, rtol=1e-10, atol=1e-12)
    h = 1e-7
    ip, _ = butler_volmer(eta + h, 2.0, 310.0, r_film=r)
    im, _ = butler_volmer(eta - h, 2.0, 310.0, r_film=r)
    assert np.allclose(g, (ip - im) / (2 * h), rtol=1e-5)
