"""Two immiscible fluids on the D3Q19 lattice: the colour-gradient lattice Boltzmann model.

Electrolyte ("red", phase field +1) displacing air ("blue", -1) in the pore space.  Each fluid
node carries two population sets ``R_q`` and ``B_q``; their sum ``f_q`` collides as one fluid
(BGK, relaxation time from the local viscosity), then

1. a **perturbation** creates the interfacial tension (Reis & Phillips 2007, J. Phys. A 40,
   4033; the D3Q19 weights of Leclaire et al. 2017, Phys. Rev. E 95, 033306):
   ``f_q += (A / tau) / 2 |G| (w_q (c_q . G)^2 / |G|^2 - B_q)`` with ``G`` the gradient of the
   phase field ``phi = (rho_R - rho_B) / rho`` and ``B_0 = -1/3, B_faces = 1/18,
   B_edges = 1/36``.  The amplitude is divided by the local relaxation time because the
   operator's tension is proportional to ``A tau`` (Chapman-Enskog): so the tension does not
   change with the viscosity ratio.  The tension in lattice units is measured by the Laplace
   test (``tests/test_flow_twophase.py``), not assumed;
2. **recolouring** separates the colours against the gradient (Latva-Kokko & Rothman 2005,
   Phys. Rev. E 71, 056702): ``R_q = rho_R / rho f_q + beta rho_R rho_B / rho w_q cos(c_q, G)``,
   ``B_q = f_q - R_q``; it keeps the interface 2-3 nodes wide and, unlike a free-energy or
   Shan-Chen model, does not dissolve small trapped bubbles;
3. **wetting** (geometric, Leclaire et al. 2017; Akai et al. 2018, J. Comput. Phys. 363): at a
   fluid node next to a solid the colour gradient is turned so that the interface meets the
   wall's normal ``n_w`` at the solid phase's contact angle ``theta`` (measured through the
   electrolyte): ``n = -cos(theta) n_w + sin(theta) t``, ``t`` the gradient's tangential
   direction; solid neighbours take the node's own phase field in the gradient (no normal
   component of their own), so the gradient's magnitude is rebuilt from its tangential part,
   ``|G| = |G_t| / sin(theta)`` (capped at 3x): without that the tension at the wall layer is
   too weak and the angles lean toward 90 degrees (145 held at a set 150).

Densities are matched (rho = 1 for both fluids: at the pore scale of an electrode the Bond
number is ~1e-7 and inertia negligible, Reynolds ~1e-3), the viscosities differ: the local
kinematic viscosity is the geometric blend ``nu = nu_R^((1 + phi)/2) nu_B^((1 - phi)/2)``.  Which
blend fills the interface's 2-3 nodes matters at large viscosity ratios: against Washburn in a
slit 16 nodes wide (``tests/test_flow_impregnation.py``) the harmonic blend (``1/nu`` linear in
phi) filled -0.6 % / +16 % off at viscosity ratios 20 / 100, the arithmetic one (``nu`` linear)
-11.5 % / -2 %, the geometric one -7 % / +5 %: the harmonic blend makes the electrolyte side of
the interface nearly as fluid as air (at phi = 0.5 nu is 4 % of nu_R at M = 100), a lubricating
film at the contact line; the arithmetic one makes the air side viscous.  The geometric blend is
the one of the three within the issue's 10 % at both ratios (measured 2026-12-06; a choice among
standard interpolation rules, no parameter fitted).
Streaming is a push to the neighbour, or the halfway bounce-back where the neighbour is solid.
Mass of each colour is conserved to rounding by collision, recolouring and bounce-back alike.

Arrays hold the fluid nodes only (C order), with the neighbour list of
:func:`~electrovox.solvers.flow.lattice.neighbour_list` (periodic wrap on every axis).  The
populations are stored node by node, the two colours side by side (``fb[i, 2 q]`` = R_q,
``fb[i, 2 q + 1]`` = B_q; two-dimensional: numba's parallel loops index 3D arrays several times
slower), and the links node by node (``links[i, q]``): a node's 38 populations are read from 304
contiguous bytes and each push writes R and B into one cache line (direction-major arrays kept 76
streams open); measured alone this layout changed the speed by no more than the noise (0.97-1.03x),
the kernel's limit being its arithmetic.  The kernels are compiled with
LLVM's reassociation, contraction (FMA) and reciprocal flags but not its no-NaN / no-inf ones
(NaN stays detectable): 1.2x one thread, 1.25-1.3x two threads on this machine (2026-12-06);
results move at rounding level only (each node's
arithmetic is its own, so a run is still reproducible bit for bit whatever the thread count).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from electrovox.solvers.flow.lattice import OPP, C, Q, W, fluid_index, neighbour_list

__all__ = ["ColourGradient", "B_WEIGHTS"]

#: the perturbation operator's B_q for D3Q19 (Leclaire et al. 2017): isotropic to second order
B_WEIGHTS = np.array([-1 / 3] + [1 / 18] * 6 + [1 / 36] * 12)

_CF = C.astype(np.float64)
_CLEN = np.sqrt((_CF ** 2).sum(axis=1))
#: LLVM's fast-math flags for the kernels (module docstring): no "nnan" / "ninf"
_FAST = {"reassoc", "contract", "arcp", "nsz", "afn"}
#: 1 / |c_q| (0 for the rest direction, whose colour term vanishes)
_ICLEN = np.where(_CLEN > 0, 1.0 / np.where(_CLEN > 0, _CLEN, 1.0), 0.0)
_CHUNK = 1024
#: one of each pair of opposite directions (the TRT collision visits a pair at once)
_PAIRS = np.array([q for q in range(1, Q) if q < OPP[q]], dtype=np.int64)
#: TRT's magic product: halfway bounce-back exact for plane Poiseuille flow (Ginzburg)
MAGIC = 3.0 / 16.0


@njit(cache=True, parallel=True, fastmath=_FAST)
def _phase(fb, phi, rho):
    n = fb.shape[0]
    for i in prange(n):
        rr = 0.0
        bb = 0.0
        for q in range(19):
            rr += fb[i, 2 * q]
            bb += fb[i, 2 * q + 1]
        rho[i] = rr + bb
        phi[i] = (rr - bb) / (rr + bb)


@njit(cache=True, parallel=True, fastmath=_FAST)
def _collide_stream(fb, fb2, nb, phi, nw, cos_t, wall, cf, iclen, w, bw, opp, pairs,
                    nu_r, nu_b, amp, beta, force, magic):
    n = fb.shape[0]
    has_force = force[0] != 0.0 or force[1] != 0.0 or force[2] != 0.0
    nchunk = (n + _CHUNK - 1) // _CHUNK
    for c in prange(nchunk):
        # one scratch array per chunk of nodes, not per node (numba allocates on the heap)
        f = np.empty(19)
        for i in range(c * _CHUNK, min(n, (c + 1) * _CHUNK)):
            _node(i, f, fb, fb2, nb, phi, nw, cos_t, wall, cf, iclen, w, bw, opp, pairs,
                  nu_r, nu_b, amp, beta, force, has_force, magic)


@njit(cache=True, inline="always", fastmath=_FAST)
def _node(i, f, fb, fb2, nb, phi, nw, cos_t, wall, cf, iclen, w, bw, opp, pairs, nu_r, nu_b, amp, beta,
          force, has_force, magic):
    rr = 0.0
    bb = 0.0
    jx = 0.0
    jy = 0.0
    jz = 0.0
    for q in range(19):
        rq = fb[i, 2 * q]
        bq = fb[i, 2 * q + 1]
        fq = rq + bq
        f[q] = fq
        rr += rq
        bb += bq
        jx += cf[q, 0] * fq
        jy += cf[q, 1] * fq
        jz += cf[q, 2] * fq
    rho = rr + bb
    # Guo forcing, uniform body force (x, y, z) per unit volume
    ux = (jx + 0.5 * force[0]) / rho
    uy = (jy + 0.5 * force[1]) / rho
    uz = (jz + 0.5 * force[2]) / rho
    # colour gradient (isotropic stencil), solid neighbours mirror the node's phase
    gx = 0.0
    gy = 0.0
    gz = 0.0
    for q in range(1, 19):
        m = nb[i, q]
        p = phi[m] if m >= 0 else (cos_t[i] if wall[i] == 2 else phi[i])
        gx += w[q] * cf[q, 0] * p
        gy += w[q] * cf[q, 1] * p
        gz += w[q] * cf[q, 2] * p
    gx *= 3.0
    gy *= 3.0
    gz *= 3.0
    gn = np.sqrt(gx * gx + gy * gy + gz * gz)
    if wall[i] == 1 and gn > 1e-12:
        # turn the gradient to the contact angle: normal part -cos(theta), tangential sin(theta)
        wx, wy, wz = nw[i, 0], nw[i, 1], nw[i, 2]
        dn = (gx * wx + gy * wy + gz * wz) / gn
        tx = gx / gn - dn * wx
        ty = gy / gn - dn * wy
        tz = gz / gn - dn * wz
        tn = np.sqrt(tx * tx + ty * ty + tz * tz)
        ct = cos_t[i]
        st = np.sqrt(max(0.0, 1.0 - ct * ct))
        if tn > 1e-12:
            tx /= tn
            ty /= tn
            tz /= tn
        else:
            st = 0.0
            ct = 1.0 if ct >= 0 else -1.0
        # the mirrored solid neighbours lose the gradient's normal part, not its tangential one:
        # the interface's full gradient is the tangential part over sin(theta)
        gt = tn * gn
        if st > 0.2:
            gn = min(gt / st, 3.0 * gn)
        gx = gn * (-ct * wx + st * tx)
        gy = gn * (-ct * wy + st * ty)
        gz = gn * (-ct * wz + st * tz)
    ph = min(1.0, max(-1.0, phi[i]))
    nu = nu_b * np.exp(0.5 * (1.0 + ph) * np.log(nu_r / nu_b))     # geometric blend (docstring)
    tau = 3.0 * nu + 0.5
    om = 1.0 / tau
    # TRT: the symmetric part relaxes with the viscosity's rate, the antisymmetric part with the
    # rate that fixes the magic product (1/om - 1/2)(1/om_m - 1/2) = 3/16, which puts the halfway
    # bounce-back wall exactly midway for every viscosity (Ginzburg): with BGK the slit flow was
    # 29 % fast at tau = 2, the electrolyte's relaxation time at a viscosity ratio of 100
    om_m = 1.0 / (0.5 + magic / (tau - 0.5))
    usq = ux * ux + uy * uy + uz * uz
    fxu = force[0] * ux + force[1] * uy + force[2] * uz
    feq0 = w[0] * rho * (1.0 - 1.5 * usq)
    f[0] = f[0] - om * (f[0] - feq0) + (1.0 - 0.5 * om) * w[0] * (-3.0 * fxu)
    for j in range(9):
        # each direction k with its opposite p, visited once
        k = pairs[j]
        p = opp[k]
        cu = cf[k, 0] * ux + cf[k, 1] * uy + cf[k, 2] * uz
        sym = w[k] * rho * (1.0 + 4.5 * cu * cu - 1.5 * usq)
        asym = w[k] * rho * 3.0 * cu
        s_sym = 0.0
        s_asym = 0.0
        if has_force:       # the source terms, skipped when there is no body force (impregnation)
            cF = cf[k, 0] * force[0] + cf[k, 1] * force[1] + cf[k, 2] * force[2]
            s_sym = (1.0 - 0.5 * om) * w[k] * (-3.0 * fxu + 9.0 * cu * cF)
            s_asym = (1.0 - 0.5 * om_m) * w[k] * 3.0 * cF
        fp = 0.5 * (f[k] + f[p])
        fm = 0.5 * (f[k] - f[p])
        dp = om * (fp - sym)
        dm = om_m * (fm - asym)
        f[k] = f[k] - dp - dm + s_sym + s_asym
        f[p] = f[p] - dp + dm + s_sym - s_asym
    # perturbation, recolouring and the push in one pass over the directions, with cg = c_q . G / |G|
    frac = rr / rho
    a = 0.0
    sep = 0.0
    gxn = 0.0
    gyn = 0.0
    gzn = 0.0
    if gn > 1e-12:
        a = 0.5 * amp * om * gn
        sep = beta * rr * bb / rho
        gxn = gx / gn
        gyn = gy / gn
        gzn = gz / gn
    for q in range(19):
        cg = cf[q, 0] * gxn + cf[q, 1] * gyn + cf[q, 2] * gzn
        fq = f[q] + a * (w[q] * cg * cg - bw[q])
        rq = frac * fq + sep * w[q] * cg * iclen[q]
        bq = fq - rq
        m = nb[i, q]
        if m >= 0:
            fb2[m, 2 * q] = rq
            fb2[m, 2 * q + 1] = bq
        else:
            fb2[i, 2 * opp[q]] = rq
            fb2[i, 2 * opp[q] + 1] = bq


class ColourGradient:
    """The two-fluid lattice on the fluid nodes of a voxel volume.

    Parameters
    ----------
    fluid : ndarray of bool, shape (nz, ny, nx)
        Pore (fluid) voxels; the rest is solid.  Every axis is periodic (closed boundaries are
        solid layers).
    phi0 : ndarray of float, shape (nz, ny, nx)
        Initial phase field on the fluid voxels (+1 electrolyte, -1 air).
    contact_deg : float or ndarray of float, shape (nz, ny, nx)
        Contact angle of each solid voxel, degrees through the electrolyte (ignored on fluid).
    nu_electrolyte, nu_air : float
        Kinematic viscosities in lattice units (relaxation time 3 nu + 1/2).
    amplitude : float
        Perturbation amplitude A (sets the tension; see the Laplace test).
    beta : float
        Recolouring parameter (0 < beta <= 1; 0.7: a 2-3 node interface).
    force : tuple of 3 float
        Body force per unit volume (x, y, z), lattice units.
    reservoirs : bool
        Hold the fluid nodes of the last z layer at electrolyte and of the first at air, both at
        rho = 1 (the same pressure), after every step: the separator-side reservoir that feeds the
        electrolyte and the vent that lets the air out.  The wrap along z then connects
        only these two reset layers: those links are cut (bounce-back).
    """

    def __init__(self, fluid, phi0, contact_deg=90.0, nu_electrolyte=1 / 6, nu_air=1 / 6,
                 amplitude=1e-3, beta=0.7, force=(0.0, 0.0, 0.0), reservoirs=False):
        fluid = np.asarray(fluid, dtype=bool)
        self.fluid = fluid
        self.shape = fluid.shape
        self.index = fluid_index(fluid)
        self.links = np.ascontiguousarray(neighbour_list(fluid).T)     # (n, 19), node by node
        n = self.links.shape[0]
        phi = np.clip(np.asarray(phi0, dtype=float)[fluid], -1.0, 1.0)
        self.fb = np.empty((n, 2 * Q))
        self.fb[:, 0::2] = W[None, :] * (1 + phi[:, None]) / 2
        self.fb[:, 1::2] = W[None, :] * (1 - phi[:, None]) / 2
        self.fb2 = np.empty_like(self.fb)
        self.phi = np.empty(n)
        self.rho = np.empty(n)
        # wall normals (into the fluid) and the neighbouring solids' contact angle
        solid = ~fluid
        ang = np.broadcast_to(np.asarray(contact_deg, dtype=float), fluid.shape)
        zz, yy, xx = np.nonzero(fluid)
        nz, ny, nx = fluid.shape
        nw = np.zeros((n, 3))
        cs = np.zeros(n)
        ws = np.zeros(n)
        for q in range(1, Q):
            cx, cy, cz = C[q]
            at = ((zz + cz) % nz, (yy + cy) % ny, (xx + cx) % nx)
            s = solid[at]
            nw -= (W[q] * s)[:, None] * _CF[q]
            cs += W[q] * s * np.cos(np.radians(ang[at]))
            ws += W[q] * s
        norm = np.linalg.norm(nw, axis=1)
        # 1: a wall node with a normal (the gradient is turned to the contact angle); 2: a node
        # between solids on opposite sides (a one-voxel throat) has no normal, so its solid
        # neighbours enter the gradient with the phase field cos(theta) instead (a fictitious
        # wetting density): mirrored, a throat wetted like a 90 degree wall and stopped the front
        self.wall = np.where(norm > 1e-12, 1, 2).astype(np.int8) * (ws > 0)
        self.nw = np.where(norm[:, None] > 0, nw / np.where(norm > 0, norm, 1)[:, None], 0.0)
        self.cos_t = np.where(ws > 0, cs / np.where(ws > 0, ws, 1), 0.0)
        self.nu = (float(nu_electrolyte), float(nu_air))
        self.amplitude = float(amplitude)
        self.beta = float(beta)
        self.force = np.asarray(force, dtype=float)
        self.steps = 0
        none = np.zeros(0, np.int32)
        if reservoirs:
            # no wrap along z between the two reservoirs: those links bounce back (the layers are
            # reset every step), and the colour gradient sees no false interface across the wrap
            zf = np.nonzero(fluid)[0]
            nzl = fluid.shape[0]
            for q in range(1, Q):
                if C[q][2] > 0:
                    self.nb[q, zf == nzl - 1] = -1
                elif C[q][2] < 0:
                    self.nb[q, zf == 0] = -1
        # reservoir nodes and their interior neighbours (the same column, one layer in)
        both = fluid[-1] & fluid[-2]
        self.inlet, self.inlet_in = ((self.index[-1][both], self.index[-2][both]) if reservoirs else (none, none))
        both = fluid[0] & fluid[1]
        self.outlet, self.outlet_in = ((self.index[0][both], self.index[1][both]) if reservoirs else (none, none))
        self._hold()
        _phase(self.fb, self.phi, self.rho)

    @property
    def nb(self) -> np.ndarray:
        """The neighbour list, shape (19, n_fluid) (a view of ``links``; -1: bounce-back)."""
        return self.links.T

    @property
    def r(self) -> np.ndarray:
        """The electrolyte's populations R_q, shape (19, n_fluid) (a view: writes go through)."""
        return self.fb[:, 0::2].T

    @property
    def b(self) -> np.ndarray:
        """The air's populations B_q, shape (19, n_fluid) (a view: writes go through)."""
        return self.fb[:, 1::2].T

    def _equilibrium_from(self, inner):
        """Populations at rho = 1 moving with the velocity of the nodes ``inner``, shape (19, k)."""
        f = self.r[:, inner] + self.b[:, inner]
        u = (_CF.T @ f) / f.sum(axis=0)
        cu = _CF @ u
        return W[:, None] * (1.0 + 3.0 * cu + 4.5 * cu * cu - 1.5 * (u * u).sum(axis=0))

    def _hold(self):
        """Reset the reservoir layers at rho = 1: electrolyte at the top, air at the bottom.

        Each reservoir node takes the equilibrium at rho = 1 with the velocity of its interior
        neighbour: at rest (u = 0) the layer would need a density step of 6 x the mass flux to
        let fluid through, which in a slit exceeds the viscous pressure drop ten times over.
        """
        if self.inlet.size:
            self.r[:, self.inlet] = self._equilibrium_from(self.inlet_in)
            self.b[:, self.inlet] = 0.0
        if self.outlet.size:
            # an air vent: air leaves, electrolyte does not (held at air, as a gas-permeable,
            # liquid-tight membrane).  Taking the neighbour's colour instead let electrolyte that
            # reached the outlet spread along it and feed the electrode from below.
            self.b[:, self.outlet] = self._equilibrium_from(self.outlet_in)
            self.r[:, self.outlet] = 0.0

    def step(self, n: int = 1) -> None:
        """Advance ``n`` time steps."""
        for _ in range(n):
            _phase(self.fb, self.phi, self.rho)
            _collide_stream(self.fb, self.fb2, self.links, self.phi, self.nw, self.cos_t,
                            self.wall, _CF, _ICLEN, W, B_WEIGHTS, OPP, _PAIRS, self.nu[0], self.nu[1],
                            self.amplitude, self.beta, self.force, MAGIC)
            self.fb, self.fb2 = self.fb2, self.fb
            self._hold()
            self.steps += 1
        _phase(self.fb, self.phi, self.rho)

    def masses(self) -> tuple[float, float]:
        """Total electrolyte and air mass (lattice units)."""
        return float(self.r.sum()), float(self.b.sum())

    def field(self, values, fill=np.nan) -> np.ndarray:
        """A per-fluid-node array on the image grid ``[z, y, x]`` (``fill`` on solid voxels)."""
        out = np.full(self.shape, fill, dtype=float)
        out[self.fluid] = values
        return out

    def phase_field(self) -> np.ndarray:
        """The phase field on the grid (+1 electrolyte, -1 air, NaN in the solid)."""
        return self.field(self.phi)

    def pressure(self) -> np.ndarray:
        """Pressure rho c_s^2 on the grid (lattice units)."""
        return self.field(self.rho / 3.0)

    def velocity(self) -> np.ndarray:
        """Velocity (x, y, z) per fluid node, shape (n_fluid, 3), lattice units (Guo: + F/2)."""
        f = self.r + self.b
        return (_CF.T @ f).T / self.rho[:, None] + 0.5 * self.force / self.rho[:, None]
