"""D3Q19 TRT collision with Guo forcing and AA-pattern streaming: numba kernels and a numpy twin.

The collision is written once, as text generated from the lattice constants
(:func:`collision_source`), and compiled twice: into the numba kernels that update only the fluid
voxels in place (the AA pattern: one population array, no second lattice; Bailey et al., 2009)
and into a vectorised numpy function used by the dense reference solver.  Both evaluate the same
float64 expressions in the same order, so the sparse and the dense solvers agree bit for bit.

Populations are stored shifted by their weights, ``g_q = f_q - w_q`` (rho0 = 1), in float32 by
default: the shift keeps the small deviations that carry the flow from being lost to rounding
(Gray et al., Computation 4:11, 2016).  The arithmetic is in the storage type.

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
    import numba  # noqa: F401  (the generated kernels module imports it)
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
    """Python source of ``collide(g0..g18, Fx, Fy, Fz, sig, omp, omm) -> (p0..p18, rho, ux, uy, uz)``.

    Constants are names (``ONE``, ``HALF``, ``W0`` ...) bound to the arithmetic's type by
    :func:`constants`, so that float32 stays float32 in numba and in numpy alike.
    """
    g = [f"g{q}" for q in range(Q)]
    lines = ["def collide(" + ", ".join(g) + ", Fx, Fy, Fz, sig, omp, omm):",
             "    drho = " + " + ".join(g),
             "    rho = ONE + drho",
             "    den = rho + HALF * sig"]
    for a, name in enumerate(("x", "y", "z")):
        lines.append(f"    j{name} = " + _lin([(int(C[q][a]), g[q]) for q in range(Q)]))
    lines += ["    ux = (jx + HALF * Fx) / den", "    uy = (jy + HALF * Fy) / den", "    uz = (jz + HALF * Fz) / den",
              "    Gx = Fx - sig * ux", "    Gy = Fy - sig * uy", "    Gz = Fz - sig * uz",
              "    usq = ux * ux + uy * uy + uz * uz",
              "    uG = ux * Gx + uy * Gy + uz * Gz",
              "    kp = ONE - HALF * omp", "    km = ONE - HALF * omm"]
    w0 = "W0"
    lines.append(f"    p0 = g0 - omp * (g0 - {w0} * (drho - rho * K15 * usq)) + kp * {w0} * (-K3 * uG)")
    done = {0}
    for q in range(1, Q):
        if q in done:
            continue
        o = int(OPP[q])
        done |= {q, o}
        w = "W1" if q <= 6 else "W2"
        cu = _lin([(int(C[q][0]), "ux"), (int(C[q][1]), "uy"), (int(C[q][2]), "uz")])
        cg = _lin([(int(C[q][0]), "Gx"), (int(C[q][1]), "Gy"), (int(C[q][2]), "Gz")])
        lines += [f"    cu = {cu}", f"    cg = {cg}",
                  f"    ep = {w} * (drho + rho * (K45 * cu * cu - K15 * usq))",
                  f"    em = {w} * rho * K3 * cu",
                  f"    sp = {w} * (K9 * cu * cg - K3 * uG)",
                  f"    sm = {w} * K3 * cg",
                  f"    a = HALF * (g{q} + g{o})", f"    b = HALF * (g{q} - g{o})",
                  "    r = -omp * (a - ep) + kp * sp", "    s = -omm * (b - em) + km * sm",
                  f"    p{q} = g{q} + r + s", f"    p{o} = g{o} + r - s"]
    lines.append("    return (" + ", ".join(f"p{q}" for q in range(Q)) + ", rho, ux, uy, uz)")
    return "\n".join(lines) + "\n"


def constants(dtype) -> dict:
    """The collision's constants in the arithmetic's type.

    Float32 storage computes in float32: twice the SIMD lanes, and the shift by the weights keeps
    its accuracy (as on GPUs).
    """
    t = np.dtype(dtype).type
    return {"ONE": t(1.0), "HALF": t(0.5), "K15": t(1.5), "K3": t(3.0), "K45": t(4.5), "K9": t(9.0),
            "W0": t(W[0]), "W1": t(W[1]), "W2": t(W[7]), "FT": np.dtype(dtype)}


def collide_numpy(dtype):
    """The collision as a vectorised numpy function for populations of ``dtype``."""
    ns = dict(constants(dtype))
    exec(collision_source(), ns)  # noqa: S102 - our own generated source
    return ns["collide"]


#: fluid voxels per block: gathered into small contiguous arrays, collided in a loop that the
#: compiler vectorises (SIMD over voxels), scattered back
BLOCK = 128


def _kernel_source(odd: bool) -> str:
    """Source of one AA step over all fluid voxels (even: in place, swapped; odd: via the links).

    ``nb`` is the link table of :func:`~electrovox.solvers.flow.lattice.link_table` (flat
    addresses with bounce-back folded in).

    Blocks of :data:`BLOCK` voxels: gather the 19 incoming populations into ``gin``, collide in
    one loop over the block (straight-line float64 arithmetic on contiguous arrays: vectorised),
    scatter ``gout``.  Within a step every slot of ``A`` is read and written by one voxel only (the
    AA pattern's property), so blocks and threads never touch each other's slots.
    """
    L = ["def aa_step(A, nb, Fx, Fy, Fz, sigma, has_sigma, omp, omm):",
         "    n_fluid = A.shape[0]",
         "    Af = A.reshape(-1)",
         f"    n_blocks = (n_fluid + {BLOCK} - 1) // {BLOCK}",
         "    for blk in prange(n_blocks):",
         f"        n0 = blk * {BLOCK}",
         f"        nn = min({BLOCK}, n_fluid - n0)",
         f"        gin = np.empty(({Q}, {BLOCK}), dtype=FT)",
         f"        gout = np.empty(({Q}, {BLOCK}), dtype=FT)",
         f"        sg = np.zeros({BLOCK}, dtype=FT)",
         "        if has_sigma:",
         "            for b in range(nn):",
         "                sg[b] = sigma[n0 + b]"]
    for i in range(Q):
        o = int(OPP[i])
        L.append("        for b in range(nn):")
        if not odd or i == 0:
            L.append(f"            gin[{i}, b] = A[n0 + b, {i}]")
        else:  # incoming f_i(x) = f*_i(x - c_i), stored at A[opp i] of the voxel x + c_opp(i)
            L.append(f"            gin[{i}, b] = Af[nb[{o}, n0 + b]]")
    L.append("        for b in range(nn):")
    L += [f"            g{q} = gin[{q}, b]" for q in range(Q)]
    L.append("            res = collide(" + ", ".join(f"g{q}" for q in range(Q)) + ", Fx, Fy, Fz, sg[b], omp, omm)")
    L += [f"            gout[{q}, b] = res[{q}]" for q in range(Q)]
    for i in range(Q):
        o = int(OPP[i])
        L.append("        for b in range(nn):")
        if i == 0:
            L.append("            A[n0 + b, 0] = gout[0, b]")
        elif not odd:
            L.append(f"            A[n0 + b, {o}] = gout[{i}, b]")
        else:  # f*_i(x) goes to x + c_i, or bounces back into the opposite slot of x
            L.append(f"            Af[nb[{i}, n0 + b]] = gout[{i}, b]")
    return "\n".join(L) + "\n"


def module_source(dtype) -> str:
    """A Python module holding the collision and both AA kernels for ``dtype``, numba-decorated.

    Written to a file (see :func:`_compile_kernels`) so that numba can cache the compiled
    machine code between processes (``cache=True`` needs a source file): the ~10 s compile is
    paid once per machine, not per run.
    """
    c = constants(dtype)
    head = ["import numpy as np", "from numba import njit, prange", "",
            f"FT = np.dtype({c['FT'].name!r})"]
    head += [f"{k} = np.{c['FT'].name}({float(v)!r})" for k, v in c.items() if k != "FT"]
    body = ["", "", "@njit(cache=True, inline='always')", collision_source()]
    for odd in (False, True):
        src = _kernel_source(odd).replace("def aa_step(", f"def aa_step_{'odd' if odd else 'even'}(")
        body += ["", "@njit(parallel=True, cache=True)", src]
    return "\n".join(head + body)


def _cache_dir():
    import os
    from pathlib import Path
    base = os.environ.get("EVX_KERNEL_CACHE") or os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "electrovox" / "kernels"


def load_generated(src: str, prefix: str, names: tuple) -> tuple:
    """Functions ``names`` of the generated module source ``src``, compiled by numba.

    The source is written (atomically) to a file named by its hash in the kernel cache folder and
    imported from there, so that numba's ``cache=True`` can keep the machine code between
    processes; a new source gets a new file.  Without a writable cache folder it is compiled in
    memory instead.
    """
    import hashlib
    import importlib.util
    import os
    import sys
    import tempfile
    name = f"{prefix}_{hashlib.sha256(src.encode()).hexdigest()[:16]}"
    try:
        folder = _cache_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.py"
        if not path.is_file():  # atomically: concurrent processes may write it too
            fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
            with os.fdopen(fd, "w") as f:
                f.write(src)
            os.replace(tmp, path)
        mod = sys.modules.get(name)
        if mod is None:  # registered by name: numba's cache finds the module again by it
            spec = importlib.util.spec_from_file_location(name, path)
            mod = importlib.util.module_from_spec(spec)
            sys.modules[name] = mod
            spec.loader.exec_module(mod)
        return tuple(getattr(mod, k) for k in names)
    except OSError:  # no writable cache: compile in memory (no cache between processes)
        ns: dict = {}
        exec(src.replace("cache=True", "cache=False"), ns)  # noqa: S102 - our own generated source
        return tuple(ns[k] for k in names)


def _compile_kernels(dtype):
    return load_generated(module_source(dtype), f"evx_lbm_{np.dtype(dtype).name}", ("aa_step_even", "aa_step_odd"))


_KERNELS: dict = {}


def kernels(dtype=np.float32):
    """(even step, odd step) numba kernels for populations of ``dtype``, compiled on first use."""
    key = np.dtype(dtype).name
    if key not in _KERNELS:
        if not HAVE_NUMBA:
            raise RuntimeError("numba is not installed: use the dense numpy lattice")
        _KERNELS[key] = _compile_kernels(dtype)
    return _KERNELS[key]
