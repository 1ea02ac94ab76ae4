"""Butler-Volmer kinetics at the active-material surface, in series with a resistive CEI film.

At an interface face, the current density ``i`` (A/m^2, positive = anodic, i.e. out of the solid;
lithiation is cathodic) obeys

    i = i0 [exp(alpha_a F eta_ct / RT) - exp(-alpha_c F eta_ct / RT)],   eta_ct = eta - i R_film,

with ``eta = phi_s - phi_e - U(c_s,surf)`` the overpotential across the interface and
``R_film = thickness / film conductivity`` (Ohm m^2) the CEI film's area resistance: the film takes
its share ``i R_film`` of the overpotential.  With a film the relation is implicit in ``i``; it is
solved per face by Newton on ``g(i) = i - BV(eta - i R)`` (monotone: one root), vectorised.
:func:`butler_volmer` also returns ``di/deta`` for the coupled Newton of the solver.
"""

from __future__ import annotations

import numpy as np

F = 96485.33212      # C/mol, Faraday constant (CODATA 2018)
R_GAS = 8.314462618  # J/(mol K), gas constant (CODATA 2018)


def butler_volmer(eta, i0, T, alpha_a=0.5, alpha_c=0.5, r_film=0.0, tol=1e-12, max_iter=60):
    """Current density and its derivative for overpotentials ``eta`` (with an optional film).

    Parameters
    ----------
    eta : float or ndarray
        Overpotential phi_s - phi_e - U, V.
    i0 : float or ndarray
        Exchange-current density, A/m^2 (> 0).
    T : float
        Temperature, K.
    alpha_a, alpha_c : float
        Anodic and cathodic transfer coefficients.
    r_film : float or ndarray
        Film area resistance thickness / conductivity, Ohm m^2 (0: no film).
    tol : float
        Newton tolerance on |delta i| relative to (|i| + i0).
    max_iter : int
        Newton iterations at most.

    Returns
    -------
    i : ndarray
        Current density, A/m^2 (anodic positive).
    di_deta : ndarray
        Its derivative in A/(m^2 V): ``BV'(eta_ct) / (1 + R BV'(eta_ct))``.

    Examples
    --------
    Small-signal resistance R T / (F i0) at alpha 1/2, plus the film in series:

    >>> i, g = butler_volmer(0.0, 10.0, 298.15, r_film=0.01)
    >>> round(float(1 / g), 6) == round(R_GAS * 298.15 / (F * 10.0) + 0.01, 6)
    True
    """
    f = F / (R_GAS * T)
    eta, i0, r = np.broadcast_arrays(np.asarray(eta, float), np.asarray(i0, float), np.asarray(r_film, float))

    def bv(x):
        # exponents clipped at 300 (e^300 ~ 1e130): a Newton iterate far from the solution must
        # not overflow to inf (the caller damps the step; the solution never gets there)
        ea, ec = np.exp(np.minimum(alpha_a * f * x, 300.0)), np.exp(np.minimum(-alpha_c * f * x, 300.0))
        return i0 * (ea - ec), i0 * f * (alpha_a * ea + alpha_c * ec)

    i, d = bv(eta)
    if np.any(r > 0):
        # start from the smaller of the kinetic and the ohmic (film) limits: Newton is monotone from there
        i = np.where(r > 0, np.sign(eta) * np.minimum(np.abs(i), np.abs(eta) / np.where(r > 0, r, 1.0)), i)
        for _ in range(max_iter):
            b, db = bv(eta - i * r)
            step = (i - b) / (1.0 + db * r)
            i = i - step
            if np.all(np.abs(step) <= tol * (np.abs(i) + i0)):
                break
        b, d = bv(eta - i * r)
        d = d / (1.0 + d * r)
    return i, d
