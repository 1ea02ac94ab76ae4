"""D3Q19 TRT collision with Guo forcing and AA-pattern streaming: numba kernels and a numpy twin.

The collision is written once, as text generated from the lattice constants
(:func:`collision_source`), and compiled twice: into the numba kernels that update only the fluid
voxels in place (the AA pattern: one population array, no second lattice; Bailey et al., 2009)
and into a vectorised numpy function used by the dense reference solver.  Both evaluate the same
float64 expressions in the same order, so the sparse and the dense solvers agree bit for bit.

Populations are stored shifted by their weights, ``g_q = f_q - w_q`` (rho0 = 1), in float32 by
default: the shift keeps the small deviations that carry the flow from being lost to rounding
(Gray et al., Computation 4:11, 2016).  Arithmetic is float64.

TRT (Ginzburg): ``omega_plus = 1 / tau`` relaxes the symmetric part, ``omega_minus`` the
antisymmetric part with ``(1/omega_plus - 1/2)(1/omega_minus - 1/2) = Lambda`` (3/16 puts the
halfway bounce-back wall exactly midway).  BGK is ``omega_minus = omega_plus``.  Guo forcing with
a uniform body force ``F`` and, in grey (Brinkman) voxels, a drag ``-sigma u`` (``sigma = nu / k``
in lattice units), solved implicitly for ``u``: ``u = (j + F/2) / (rho + sigma/2)``.
"""

from __future__ import annotations

import numpy as np

from electrovox.solvers.flow.lattice import OPP, C, Q, W

try:
    from numba import njit, prange
    HAVE_NUMBA = True
except ImportError:  # pragma: no cover
    HAVE_NUMBA = False


def _lin(coef_terms):
    """'a*g1 - g2 + ...' from [(coef, var)], zero coefficients left out (fixed order)."""
    out = []
    for coef, var in coef_terms:
        if coef == 0:
            continue
        term = var if abs(coef) == 1 else f"{abs(coef)!r}*{var}"
        out.append(("- " if coef < 0 else "+ ") + term)
    s = " ".join(out) if out else "0.0"
    return s[2:] if s.startswith("+ ") else ("-" + s[2:] if s.startswith("- ") else s)


def collision_source() -> str:
    """Python source of ``collide(g0..g18, Fx, Fy, Fz, sig, omp, omm) -> (p0..p18, rho, ux, uy, uz)``."""
    g = [f"g{q}" for q in range(Q)]
    lines = ["def collide(" + ", ".join(g) + ", Fx, Fy, Fz, sig, omp, omm):",
             "    drho = " + " + ".join(g),
             "    rho = 1.0 + drho",
             "    den = rho + 0.5 * sig"]
    for a, name in enumerate(("x", "y", "z")):
        lines.append(f"    j{name} = " + _lin([(int(C[q][a]), g[q]) for q in range(Q)]))
    lines += ["    ux = (jx + 0.5 * Fx) / den", "    uy = (jy + 0.5 * Fy) / den", "    uz = (jz + 0.5 * Fz) / den",
              "    Gx = Fx - sig * ux", "    Gy = Fy - sig * uy", "    Gz = Fz - sig * uz",
              "    usq = ux * ux + uy * uy + uz * uz",
              "    uG = ux * Gx + uy * Gy + uz * Gz",
              "    kp = 1.0 - 0.5 * omp", "    km = 1.0 - 0.5 * omm"]
    w0 = repr(float(W[0]))
    lines.append(f"    p0 = g0 - omp * (g0 - {w0} * (drho - rho * 1.5 * usq)) + kp * {w0} * (-3.0 * uG)")
    done = {0}
    for q in range(1, Q):
        if q in done:
            continue
        o = int(OPP[q])
        done |= {q, o}
        w = repr(float(W[q]))
        cu = _lin([(int(C[q][0]), "ux"), (int(C[q][1]), "uy"), (int(C[q][2]), "uz")])
        cg = _lin([(int(C[q][0]), "Gx"), (int(C[q][1]), "Gy"), (int(C[q][2]), "Gz")])
        lines += [f"    cu = {cu}", f"    cg = {cg}",
                  f"    ep = {w} * (drho + rho * (4.5 * cu * cu - 1.5 * usq))",
                  f"    em = {w} * rho * 3.0 * cu",
                  f"    sp = {w} * (9.0 * cu * cg - 3.0 * uG)",
                  f"    sm = {w} * 3.0 * cg",
                  f"    a = 0.5 * (g{q} + g{o})", f"    b = 0.5 * (g{q} - g{o})",
                  "    r = -omp * (a - ep) + kp * sp", "    s = -omm * (b - em) + km * sm",
                  f"    p{q} = g{q} + r + s", f"    p{o} = g{o} + r - s"]
    lines.append("    return (" + ", ".join(f"p{q}" for q in range(Q)) + ", rho, ux, uy, uz)")
    return "\n".join(lines) + "\n"


def _compile_collide():
    ns = {}
    exec(collision_source(), ns)  # noqa: S102 - our own generated source
    return ns["collide"]


#: the collision as a plain Python/numpy function (elementwise on arrays)
collide_numpy = _compile_collide()


def _kernel_source(odd: bool) -> str:
    """Source of one AA step over all fluid voxels (even: in place, swapped; odd: via neighbours)."""
    lines = ["def aa_step(A, nb, Fx, Fy, Fz, sigma, has_sigma, omp, omm):",
             "    n_fluid = A.shape[1]",
             "    for n in prange(n_fluid):",
             "        sig = np.float64(sigma[n]) if has_sigma else 0.0"]
    for i in range(Q):
        o = int(OPP[i])
        if not odd or i == 0:
            lines.append(f"        g{i} = np.float64(A[{i}, n])")
        else:  # incoming f_i(x) = f*_i(x - c_i), stored at A[opp i] of the voxel x + c_opp(i)
            lines += [f"        m = nb[{o}, n]",
                      f"        g{i} = np.float64(A[{o}, m]) if m >= 0 else np.float64(A[{i}, n])"]
    lines.append("        res = collide(" + ", ".join(f"g{q}" for q in range(Q)) + ", Fx, Fy, Fz, sig, omp, omm)")
    for i in range(Q):
        o = int(OPP[i])
        if i == 0:
            lines.append("        A[0, n] = res[0]")
        elif not odd:
            lines.append(f"        A[{o}, n] = res[{i}]")
        else:  # f*_i(x) goes to x + c_i, or bounces back into the opposite slot of x
            lines += [f"        m = nb[{i}, n]",
                      "        if m >= 0:", f"            A[{i}, m] = res[{i}]",
                      "        else:", f"            A[{o}, n] = res[{i}]"]
    return "\n".join(lines) + "\n"


def _compile_kernels():
    if not HAVE_NUMBA:
        return None, None
    collide = njit(cache=False, inline="always")(_compile_collide())
    out = []
    for odd in (False, True):
        ns = {"np": np, "prange": prange, "collide": collide}
        exec(_kernel_source(odd), ns)  # noqa: S102
        out.append(njit(parallel=True, cache=False)(ns["aa_step"]))
    return tuple(out)


_KERNELS = None


def kernels():
    """(even step, odd step) numba kernels, compiled on first use."""
    global _KERNELS
    if _KERNELS is None:
        _KERNELS = _compile_kernels()
    return _KERNELS
