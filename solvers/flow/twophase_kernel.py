"""The colour-gradient step: straight-line code generated from the D3Q19 constants.

Layout (block-interleaved, "array of structures of arrays"): the fluid nodes are cut into blocks
of :data:`BL` consecutive nodes, and a block's populations are stored direction by direction,
``fa[blk, 2 q, lane]`` = R_q and ``fa[blk, 2 q + 1, lane]`` = B_q of node ``blk * BL + lane``.
A block is one contiguous 9.5 KB piece of memory that the kernel reads straight into SIMD
registers (no transposition), and the push of direction ``q`` writes the block's 32 values to
consecutive lanes of the neighbours' block (the neighbour along ``q`` of consecutive nodes is
mostly the next node's neighbour).  Node-by-node storage needed a transposition in and out of
the registers and wrote each value to a different cache line; direction-major arrays opened 76
memory streams at once.  The populations are updated in place by the AA pattern (even and odd
steps, :func:`kernel_source`): half the memory of two arrays, and an odd step writes back into
the cache lines it has just read instead of allocating lines of a second array.

:func:`kernel_source` writes the collide-perturb-recolour-push kernel of
:mod:`~electrovox.solvers.flow.twophase` with every direction spelled out: each ``c_q . u``,
``c_q . G``, weight and push target is a literal, the branches (wetting, bounce-back) are
selects, and the exponential of the viscosity blend is a polynomial, so that the loop over a
block's nodes compiles to SIMD arithmetic (numba targets the host CPU: on this machine's AMD
Zen 5, 8-wide AVX-512 on zmm registers, 2026-12-07; the gathers and scatters stay scalar).
Against the loop-over-directions form it replaced, the same run agrees to rounding
(``tests/test_flow_twophase.py``); it is 1.5x faster (96^3 blobs, 2026-12-07: 164 against 247 ns
per node on one core; ``benchmarks/impregnation.py``).

Two details make the gathers cheap (2026-12-07, 96^3 blobs, one core: 173 -> 103 ns a step,
``benchmarks/RESULTS.md``; neither changes a bit): before gathering, a block reads the block a
z-plane ahead in address order (:func:`touch_lead`), so the lines arrive as a stream instead of
one at a time, and the node of a neighbour's address is found in floating point
(:func:`node_of`) instead of by numba's integer floor division, which kept the loop scalar.

The kernels are compiled through :func:`~electrovox.solvers.flow.kernels.load_generated` (a
cached module file, so numba's machine-code cache works across processes).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from electrovox.solvers.flow.kernels import _lin, load_generated
from electrovox.solvers.flow.lattice import OPP, C, Q, W

__all__ = ["B_WEIGHTS", "BL", "kernel_source", "collide_stream", "phase", "node_of", "phase_odd", "phase_odd_source",
           "push_table", "touch_lead"]

#: the perturbation operator's B_q for D3Q19 (Leclaire et al. 2017): isotropic to second order
B_WEIGHTS = np.array([-1 / 3] + [1 / 18] * 6 + [1 / 36] * 12)
#: nodes per block (a multiple of the 8 float64 lanes of AVX-512; 32: a block's 9.5 KB of
#: populations, its gathered phases and its 9.5 KB of results stay in the 32 KB L1 cache)
BL = 32
#: blocks per parallel work item (the scratch arrays are allocated once per item)
BLOCKS_PER_ITEM = 32
#: squarings after the exponential's Taylor polynomial (its argument is divided by 2**6)
EXP_SQUARINGS = 6
#: degree of that polynomial: relative error < 1e-12 for viscosity ratios up to 1000, < 1e-9 up
#: to e**32 (the remainder x**11 / 11! at |x| <= |ln M| / 64, times 2**6 for the squarings)
EXP_DEGREE = 10


def _weighted(a: int, name: str) -> str:
    """``W1 * (faces' sum) + W2 * (edges' sum)`` of ``c_qa * name_q`` (a: 0 x, 1 y, 2 z)."""
    faces = _lin([(int(C[q][a]), f"{name}{q}") for q in range(1, 7)])
    edges = _lin([(int(C[q][a]), f"{name}{q}") for q in range(7, Q)])
    return f"{float(W[1])!r} * ({faces}) + {float(W[7])!r} * ({edges})"


_WET = """\
# wetting where wl == 1: turn the gradient to the contact angle (normal part -cos(theta),
# tangential sin(theta)); written as selects so that the loop stays vectorised
wx = nwt[0, i]
wy = nwt[1, i]
wz = nwt[2, i]
ct = cos_t[i]
wet = (wl == 1) and (gn > 1e-12)
gs = gn if wet else 1.0
dn = (gx * wx + gy * wy + gz * wz) / gs
tx = gx / gs - dn * wx
ty = gy / gs - dn * wy
tz = gz / gs - dn * wz
tn = np.sqrt(tx * tx + ty * ty + tz * tz)
has_t = tn > 1e-12
itn = 1.0 / (tn if has_t else 1.0)
tx = tx * itn
ty = ty * itn
tz = tz * itn
st = np.sqrt(max(0.0, 1.0 - ct * ct)) if has_t else 0.0
ct = ct if has_t else (1.0 if ct >= 0 else -1.0)
# the mirrored solid neighbours lose the gradient's normal part, not its tangential one:
# the interface's full gradient is the tangential part / sin(theta)
gw = min(tn * gn / max(st, 0.2), 3.0 * gn) if st > 0.2 else gn
gx = gw * (-ct * wx + st * tx) if wet else gx
gy = gw * (-ct * wy + st * ty) if wet else gy
gz = gw * (-ct * wz + st * tz) if wet else gz
gn = gw if wet else gn
"""


_TOUCH = f"""\
ahead = blk + lead
s = 0.0
if ahead < nblk:
    for l in range(0, {2 * Q * BL}, 8):
        s += flat[ahead * {2 * Q * BL} + l]
sink[blk] = s
"""


def node_of(t: str) -> str:
    """Source of the fluid node whose populations hold flat address ``t`` (an expression >= 0).

    ``t = block * 38 BL + row * BL + lane`` gives the node ``block * BL + lane``.  The block is
    ``int((t + 0.5) / (38 BL))`` in floating point, not ``t // (38 BL)``: numba's integer floor
    division (Python's semantics, a zero-divisor check) kept the 18 phase gathers of a node from
    vectorising and cost ~20 ns a node, a quarter of a step in cache (2026-12-07, 40^3 blobs,
    one core: 77 -> 58 ns a step).  It is exact: the quotient's fraction lies in [0.5, 38 BL - 0.5]
    / (38 BL), at least 4e-4 from an integer, and the product's rounding error is below
    (block + 1) 2^-52, under 4e-4 for any block below 1e12 (``tests/test_flow_twophase.py``
    checks the boundaries up to 2^31).
    """
    assert BL & (BL - 1) == 0       # the lane is t & (BL - 1)
    return f"int(({t} + 0.5) * {1.0 / (2 * Q * BL)!r}) * {BL} + ({t} & {BL - 1})"


def touch_lead(T: np.ndarray) -> int:
    """How many blocks ahead the gathering kernels read a block in address order, from ``T``.

    A block's incoming populations lie in up to 19 blocks, the farthest about one z-plane of the
    pore space ahead.  Read in that order, the lines come from memory one by one, each at the
    full latency: the hardware prefetcher sees no stream.  So :func:`phase_odd` and the odd
    step first read one value per cache line of block ``blk + lead`` (its address order: a
    stream the prefetcher follows), a little beyond the farthest block that the following
    blocks gather from, and those gathers then hit the cache.  On 96^3 blobs, one core
    (2026-12-07): :func:`phase_odd` 94 -> 32 ns per node, the odd step 135 -> 111 ns; leads from
    the reach to ~2x it gave the same.  ``lead`` is the 90th percentile of the blocks' forward
    reach (the periodic wrap's far links excluded by the percentile) plus 8 blocks.

    Parameters
    ----------
    T : ndarray of int, shape (n_blocks, 19, BL)
        The push table (:func:`push_table`).

    Returns
    -------
    int
        Blocks ahead, >= 1.
    """
    nblk = T.shape[0]
    reach = T.reshape(nblk, -1).max(axis=1) // (2 * Q * BL) - np.arange(nblk)    # no (n, 19) temporary
    return int(np.percentile(reach, 90)) + 8 if nblk > 1 else 1


def _cdot(q: int, names) -> str:
    return _lin([(int(C[q][a]), v) for a, v in enumerate(names)])


def kernel_source(force: bool, odd: bool) -> str:
    """Python source of one two-phase step over the block-interleaved layout, in place.

    ``collide_stream(fa, T, phi, nwt, cos_t, wall, nu_r, nu_b, amp, beta, Fx, Fy, Fz, magic, lead, sink)``
    updates ``fa`` ((n_blocks, 38, BL) float64) by the AA pattern (Bailey et al. 2009, as the
    single-phase solver): one population array, no second copy.  Even step: a node reads its
    populations from its own slots and writes each outgoing q into its own slot opp(q).  Odd
    step (``odd``): it reads its incoming q at ``T[x, opp q]`` and writes its outgoing q to
    ``T[x, q]``, the neighbour's slot q or (bounce-back) its own slot opp(q); a node reads and
    writes the same 19 slots, which no other node touches.  ``T`` (n_blocks, 19, BL) holds those
    flat addresses of each node's R_q (B_q at ``+ BL``), see :func:`push_table`.  ``phi`` (padded
    nodes,) is the phase field, ``nwt`` (3, nodes) the wall normals, ``cos_t`` the neighbouring
    solids' cos(theta), ``wall`` 1 on wall nodes with a normal.  The physics (TRT with the local
    geometric-blend viscosity, Guo forcing when ``force``, perturbation, recolouring, geometric
    wetting, halfway bounce-back) is described in :mod:`~electrovox.solvers.flow.twophase`.
    ``lead`` and ``sink`` ((n_blocks,) float64): the odd step's read-ahead, as :func:`phase_odd`'s.
    Each node's arithmetic is the same at either parity, so a run gives the same bits whichever
    parity it is restarted at.

    A neighbour's phase is read at the node that ``T`` pushes to, ``phi[node of T]``: on a
    bounce-back link that is the node itself, the mirror that solid neighbours take in the
    gradient.  (A node between solids on opposite sides has no wall normal: its solid neighbours'
    ``sum w_q c_q`` is zero, so whatever value they take adds nothing to its gradient.)
    """
    I = " " * 16
    L = ["def collide_stream(fa, T, phi, nwt, cos_t, wall, nu_r, nu_b, amp, beta, Fx, Fy, Fz, magic, lead, sink):",
         "    nblk = fa.shape[0]",
         "    flat = fa.reshape(-1)",
         f"    lr = np.log(nu_r / nu_b) / {float(2.0 ** EXP_SQUARINGS)!r}",
         f"    nitem = (nblk + {BLOCKS_PER_ITEM} - 1) // {BLOCKS_PER_ITEM}",
         "    for item in prange(nitem):",
         f"        G = np.empty(({Q}, {BL}))",
         f"        H = np.empty(({2 * Q}, {BL}))"]
    if odd:     # the gathered incoming populations (the even step reads its own slots in place)
        L += [f"        A = np.empty(({2 * Q}, {BL}))"]
    L += [f"        for blk in range(item * {BLOCKS_PER_ITEM}, min(nblk, (item + 1) * {BLOCKS_PER_ITEM})):",
          f"            n0 = blk * {BL}"]
    if odd:     # read block blk + lead in address order first (see touch_lead)
        L += [I[4:] + ln for ln in _TOUCH.rstrip("\n").split("\n")]
    L += [f"            for q in range(1, {Q}):",
          f"                for b in range({BL}):",
          "                    t = T[blk, q, b]",
          f"                    G[q, b] = phi[{node_of('t')}]"]
    if odd:     # the incoming q of node x sits where its neighbour along -q pushed it: T[x, opp q]
        for q in range(Q):
            L += [f"            for b in range({BL}):",
                  f"                t = T[blk, {int(OPP[q])}, b]",
                  f"                A[{2 * q}, b] = flat[t]",
                  f"                A[{2 * q + 1}, b] = flat[t + {BL}]"]
    src = "A[{k}, b]" if odd else "fa[blk, {k}, b]"
    L += [f"            for b in range({BL}):",
         f"{I}i = n0 + b"]
    for q in range(Q):
        L += [f"{I}r{q} = " + src.format(k=2 * q), f"{I}b{q} = " + src.format(k=2 * q + 1), f"{I}f{q} = r{q} + b{q}"]
    L += [f"{I}rr = " + " + ".join(f"r{q}" for q in range(Q)),
          f"{I}bb = " + " + ".join(f"b{q}" for q in range(Q)),
          f"{I}rho = rr + bb",
          f"{I}irho = 1.0 / rho"]
    for a, x in enumerate("xyz"):
        L.append(f"{I}j{x} = " + _lin([(int(C[q][a]), f"f{q}") for q in range(Q)]))
    for x in "xyz":
        L.append(f"{I}u{x} = (j{x} + 0.5 * F{x}) * irho" if force else f"{I}u{x} = j{x} * irho")
    # colour gradient (isotropic stencil)
    L += [f"{I}wl = wall[i]", f"{I}ph = phi[i]"] + [f"{I}p{q} = G[{q}, b]" for q in range(1, Q)]
    L += [f"{I}g{x} = 3.0 * ({_weighted(a, 'p')})" for a, x in enumerate("xyz")]
    L.append(f"{I}gn = np.sqrt(gx * gx + gy * gy + gz * gz)")
    L += [I + ln for ln in _WET.rstrip("\n").split("\n")]
    # the geometric blend nu_b (nu_r / nu_b)^((1 + phi) / 2): exp as Taylor polynomial and squarings
    poly = "1.0"
    for k in range(EXP_DEGREE, 1, -1):
        poly = f"(1.0 + x * {float(1.0 / k)!r} * {poly})"
    L += [f"{I}ph = min(1.0, max(-1.0, ph))", f"{I}x = 0.5 * (1.0 + ph) * lr", f"{I}e = 1.0 + x * {poly}"]
    L += [f"{I}e = e * e"] * EXP_SQUARINGS
    # TRT: symmetric part with the viscosity's rate, antisymmetric with the magic product's
    L += [f"{I}tau = 3.0 * nu_b * e + 0.5",
          f"{I}om = 1.0 / tau",
          f"{I}om_m = 1.0 / (0.5 + magic / (tau - 0.5))",
          f"{I}usq = ux * ux + uy * uy + uz * uz",
          f"{I}f0 = f0 - om * (f0 - {float(W[0])!r} * rho * (1.0 - 1.5 * usq))"]
    pairs = [q for q in range(1, Q) if q < OPP[q]]
    for k in pairs:
        p = int(OPP[k])
        L += [f"{I}cu = {_cdot(k, ('ux', 'uy', 'uz'))}",
              f"{I}fp = 0.5 * (f{k} + f{p}) - {float(W[k])!r} * rho * (1.0 + 4.5 * cu * cu - 1.5 * usq)",
              f"{I}fm = 0.5 * (f{k} - f{p}) - {float(W[k])!r} * rho * 3.0 * cu",
              f"{I}f{k} = f{k} - om * fp - om_m * fm",
              f"{I}f{p} = f{p} - om * fp + om_m * fm"]
    if force:   # Guo's source terms for a uniform body force
        L += [f"{I}kp = 1.0 - 0.5 * om", f"{I}km = 1.0 - 0.5 * om_m",
              f"{I}fxu = Fx * ux + Fy * uy + Fz * uz", f"{I}f0 += kp * {float(W[0])!r} * (-3.0 * fxu)"]
        for k in pairs:
            p = int(OPP[k])
            L += [f"{I}cu = {_cdot(k, ('ux', 'uy', 'uz'))}", f"{I}cF = {_cdot(k, ('Fx', 'Fy', 'Fz'))}",
                  f"{I}ss = kp * {float(W[k])!r} * (-3.0 * fxu + 9.0 * cu * cF)",
                  f"{I}sa = km * {float(W[k])!r} * 3.0 * cF",
                  f"{I}f{k} += ss + sa", f"{I}f{p} += ss - sa"]
    # perturbation (tension) and recolouring (separation), with cg = c_q . G / |G|
    L += [f"{I}frac = rr * irho",
          f"{I}has_g = gn > 1e-12",
          f"{I}ign = 1.0 / (gn if has_g else 1.0)",
          f"{I}a = 0.5 * amp * om * gn if has_g else 0.0",
          f"{I}sep = beta * rr * bb * irho if has_g else 0.0",
          f"{I}gxn = gx * ign if has_g else 0.0",
          f"{I}gyn = gy * ign if has_g else 0.0",
          f"{I}gzn = gz * ign if has_g else 0.0",
          f"{I}o = f0 - a * {float(B_WEIGHTS[0])!r}",
          f"{I}ro = frac * o",
          f"{I}H[0, b] = ro",
          f"{I}H[1, b] = o - ro"]
    for q in range(1, Q):
        L += [f"{I}cg = {_cdot(q, ('gxn', 'gyn', 'gzn'))}",
              f"{I}o = f{q} + a * ({float(W[q])!r} * cg * cg - {float(B_WEIGHTS[q])!r})",
              f"{I}ro = frac * o + sep * {float(W[q] / np.linalg.norm(C[q]))!r} * cg",
              f"{I}H[{2 * q}, b] = ro",
              f"{I}H[{2 * q + 1}, b] = o - ro"]
    if odd:     # outgoing q to the neighbour's slot q, or back into the node's own slot opp q
        L += [f"            for q in range({Q}):",
              f"                for b in range({BL}):",
              "                    t = T[blk, q, b]",
              "                    flat[t] = H[2 * q, b]",
              f"                    flat[t + {BL}] = H[2 * q + 1, b]"]
    else:       # outgoing q into the node's own slot opp q (the AA pattern's even step)
        for q in range(Q):
            o = int(OPP[q])
            L += [f"            for b in range({BL}):",
                  f"                fa[blk, {2 * o}, b] = H[{2 * q}, b]",
                  f"                fa[blk, {2 * o + 1}, b] = H[{2 * q + 1}, b]"]
    return "\n".join(L) + "\n"


_KERNELS: dict = {}


def collide_stream(force: bool, odd: bool):
    """The compiled step kernel (numba, all threads): even or odd step, with or without forcing."""
    key = (force, odd)
    if key not in _KERNELS:
        src = "\n".join(["import numpy as np", "from numba import njit, prange", "", "",
                         "@njit(cache=True, parallel=True)", kernel_source(force, odd)])
        name = f"evx_twophase_{'force' if force else 'free'}_{'odd' if odd else 'even'}"
        _KERNELS[key] = load_generated(src, name, ("collide_stream",))[0]
    return _KERNELS[key]


@njit(cache=True, parallel=True)
def phase(fa, phi, rho):
    """Density ``rho`` and phase field ``phi = (rho_R - rho_B) / rho`` of every node, in place.

    Parameters
    ----------
    fa : ndarray of float64, shape (n_blocks, 38, BL)
    phi, rho : ndarray of float64, shape (n_blocks * BL,)
    """
    nblk = fa.shape[0]
    for blk in prange(nblk):
        rr = np.zeros(BL)
        bb = np.zeros(BL)
        for q in range(Q):
            for b in range(BL):
                rr[b] += fa[blk, 2 * q, b]
                bb[b] += fa[blk, 2 * q + 1, b]
        for b in range(BL):
            rho[blk * BL + b] = rr[b] + bb[b]
            phi[blk * BL + b] = (rr[b] - bb[b]) / (rr[b] + bb[b])


def phase_odd_source() -> str:
    """Python source of :func:`phase_odd`'s kernel: the read-ahead is the odd step's own text."""
    L = ["def phase_odd(fa, T, opp, phi, rho, lead, sink):",
         "    nblk = fa.shape[0]",
         "    flat = fa.reshape(-1)",
         "    for blk in prange(nblk):"]
    L += ["        " + ln for ln in _TOUCH.rstrip("\n").split("\n")]
    L += [f"        rr = np.zeros({BL})",
          f"        bb = np.zeros({BL})",
          f"        for q in range({Q}):",
          f"            for b in range({BL}):",
          "                t = T[blk, opp[q], b]",
          "                rr[b] += flat[t]",
          f"                bb[b] += flat[t + {BL}]",
          f"        for b in range({BL}):",
          f"            rho[blk * {BL} + b] = rr[b] + bb[b]",
          f"            phi[blk * {BL} + b] = (rr[b] - bb[b]) / (rr[b] + bb[b])"]
    return "\n".join(L) + "\n"


def phase_odd(fa, T, opp, phi, rho, lead, sink) -> None:
    """:func:`phase` before an odd step: the incoming q of node x is at ``T[x, opp q]``.

    The sums run over q in the same order as :func:`phase`'s, so both give the same bits.
    ``lead`` (:func:`touch_lead`): each block first reads block ``blk + lead`` in address order
    (the sum of one value per cache line goes to ``sink[blk]``, (n_blocks,) float64, so that the
    reads are kept); this changes no result, only the speed.  Compiled (numba, all threads) from
    :func:`phase_odd_source` on first use.

    Parameters
    ----------
    fa : ndarray of float64, shape (n_blocks, 38, BL)
    T : ndarray of int, shape (n_blocks, 19, BL)
        The push table (:func:`push_table`).
    opp : ndarray of int, shape (19,)
    phi, rho : ndarray of float64, shape (n_blocks * BL,)
    lead : int
    sink : ndarray of float64, shape (n_blocks,)
    """
    if "phase_odd" not in _KERNELS:
        src = "\n".join(["import numpy as np", "from numba import njit, prange", "", "",
                         "@njit(cache=True, parallel=True)", phase_odd_source()])
        _KERNELS["phase_odd"] = load_generated(src, "evx_twophase_phase_odd", ("phase_odd",))[0]
    _KERNELS["phase_odd"](fa, T, opp, phi, rho, lead, sink)


def push_table(links: np.ndarray) -> np.ndarray:
    """The kernel's push addresses from a node-by-node neighbour list.

    Parameters
    ----------
    links : ndarray of int, shape (n_nodes, 19)
        Fluid index of each node's neighbour along each direction, -1 for a bounce-back link;
        ``n_nodes`` a multiple of :data:`BL` (padding nodes bounce back everywhere).

    Returns
    -------
    ndarray of int32 (int64 beyond 2**31 addresses), shape (n_nodes // BL, 19, BL)
        Flat address in the (n_blocks, 38, BL) array of each node's outgoing R_q: the
        neighbour's slot ``2 q``, or the node's own slot ``2 opp(q)`` (bounce-back).
    """
    n = links.shape[0]
    dt = np.int32 if n * 2 * Q < 2 ** 31 else np.int64
    own = np.arange(n, dtype=dt)
    out = np.empty((n // BL, Q, BL), dtype=dt)
    for q in range(Q):          # a direction at a time: no (n, 19) temporaries
        fl = links[:, q] >= 0
        target = np.where(fl, links[:, q], own).astype(dt)
        row = np.where(fl, 2 * q, 2 * int(OPP[q])).astype(dt)
        out[:, q, :] = ((target // BL) * (2 * Q * BL) + row * BL + target % BL).reshape(n // BL, BL)
    return out
