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
Streaming goes to the neighbour, or is the halfway bounce-back where the neighbour is solid; the
populations stay in one array, updated in place (the AA pattern, as the single-phase solver).
Mass of each colour is conserved to rounding by collision, recolouring and bounce-back alike.

Arrays hold the fluid nodes only (C order, padded with inert air nodes to whole blocks), with
the neighbour list of :func:`~electrovox.solvers.flow.lattice.neighbour_list` (periodic wrap on
every axis) turned into push addresses.  The populations are stored block-interleaved and the
step is straight-line code generated from the lattice constants, vectorised over a block's nodes
(:mod:`~electrovox.solvers.flow.twophase_kernel`, which says why and how much it gains).  The
kernels are compiled with strict IEEE arithmetic, no fast-math flags: a run is reproducible bit for
bit whatever the thread count and wherever the arrays lie in memory (each node's arithmetic is its
own).  With fast-math (reassociation, contraction, reciprocals) the result depended on the arrays'
addresses: an ulp in 2-7 % of fresh set-ups (2026-12-07; likely the vectorised loop against the
scalar copy LLVM keeps for arrays it cannot prove apart, which then round differently).  The
flags bought no speed on the generated kernel (benchmarks/RESULTS.md, A/B of 2026-12-07).
"""

from __future__ import annotations

import numpy as np

from electrovox.solvers.flow import twophase_kernel as kern
from electrovox.solvers.flow.lattice import OPP, C, Q, W, fluid_index, neighbour_list
from electrovox.solvers.flow.twophase_kernel import B_WEIGHTS, BL

__all__ = ["ColourGradient", "B_WEIGHTS"]

_CF = C.astype(np.float64)
#: TRT's magic product: halfway bounce-back exact for plane Poiseuille flow (Ginzburg)
MAGIC = 3.0 / 16.0
#: nodes per chunk when populations are copied in or out (bounds the index arrays' memory)
_CHUNK = 1 << 16


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
    inlet_overpressure : float
        With ``reservoirs``: the electrolyte reservoir's pressure above the vent's, lattice units
        (its density is ``1 + 3 inlet_overpressure``, pressure ``rho c_s^2``): pressure-driven
        filling on top of the capillary pressure.
    """

    def __init__(self, fluid, phi0, contact_deg=90.0, nu_electrolyte=1 / 6, nu_air=1 / 6,
                 amplitude=1e-3, beta=0.7, force=(0.0, 0.0, 0.0), reservoirs=False, inlet_overpressure=0.0):
        fluid = np.asarray(fluid, dtype=bool)
        self.fluid = fluid
        self.shape = fluid.shape
        self.index = fluid_index(fluid)
        links = np.ascontiguousarray(neighbour_list(fluid).T)     # (n, 19), node by node
        #: number of fluid nodes
        self.n = n = links.shape[0]
        nblk = max(1, -(-n // BL))
        npad = nblk * BL
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
        # 1: a wall node with a normal (the gradient is turned to the contact angle); 0 otherwise,
        # a node between solids on opposite sides (a one-voxel throat) included: its solid
        # neighbours' sum of w_q c_q is zero, so they add nothing to its gradient
        self.wall = np.zeros(npad, np.int8)
        self.wall[:n] = (norm > 1e-12) & (ws > 0)
        self.nwt = np.zeros((3, npad))
        self.nwt[:, :n] = np.where(norm[:, None] > 0, nw / np.where(norm > 0, norm, 1)[:, None], 0.0).T
        self.cos_t = np.zeros(npad)
        self.cos_t[:n] = np.where(ws > 0, cs / np.where(ws > 0, ws, 1), 0.0)
        self.nu = (float(nu_electrolyte), float(nu_air))
        self.amplitude = float(amplitude)
        self.beta = float(beta)
        self.force = np.asarray(force, dtype=float)
        self.inlet_rho = 1.0 + 3.0 * float(inlet_overpressure)
        self.steps = 0
        none = np.zeros(0, np.int32)
        if reservoirs:
            # no wrap along z between the two reservoirs: those links bounce back (the layers are
            # reset every step), and the colour gradient sees no false interface across the wrap
            for q in range(1, Q):
                if C[q][2] > 0:
                    links[zz == nz - 1, q] = -1
                elif C[q][2] < 0:
                    links[zz == 0, q] = -1
        # padding nodes: inert air at rest, bouncing back on every link
        full = np.full((npad, Q), -1, dtype=np.int32)
        full[:n] = links
        del links
        self.T = kern.push_table(full)
        del full
        #: blocks ahead that the gathering kernels read in address order (speed only)
        self.lead = kern.touch_lead(self.T)
        self._sink = np.zeros(nblk)
        # at rest, each colour's share (1 +- phi) / 2 of the weights (padding: air)
        share = np.zeros(npad)
        share[:n] = (1.0 + np.clip(np.asarray(phi0, dtype=float)[fluid], -1.0, 1.0)) / 2
        share = share.reshape(nblk, 1, BL)
        self.fa = np.empty((nblk, 2 * Q, BL))
        self.fa[:, 0::2, :] = W[None, :, None] * share
        self.fa[:, 1::2, :] = W[None, :, None] * (1.0 - share)
        del share
        self._phi = np.empty(npad)
        self._rho = np.empty(npad)
        # reservoir nodes and their interior neighbours (the same column, one layer in)
        both = fluid[-1] & fluid[-2]
        self.inlet, self.inlet_in = ((self.index[-1][both], self.index[-2][both]) if reservoirs else (none, none))
        both = fluid[0] & fluid[1]
        self.outlet, self.outlet_in = ((self.index[0][both], self.index[1][both]) if reservoirs else (none, none))
        self._hold()
        self.update_phase()

    @property
    def phi(self) -> np.ndarray:
        """Phase field of the fluid nodes, shape (n,) (a view, updated by every step)."""
        return self._phi[:self.n]

    @property
    def rho(self) -> np.ndarray:
        """Density of the fluid nodes, shape (n,) (a view, updated by every step)."""
        return self._rho[:self.n]

    def _addresses(self, nodes) -> np.ndarray:
        """Flat addresses in ``fa`` of the R_q of ``nodes`` (B_q at + BL), shape (k, 19).

        The AA pattern moves them with the step's parity: before an even step a node's
        populations are in its own slots, before an odd one its incoming q is where its
        neighbour along -q pushed it, ``T[node, opp q]``.
        """
        nodes = np.asarray(nodes)
        blk, lane = nodes // BL, nodes % BL
        if self.steps % 2 == 0:
            return blk[:, None] * (2 * Q * BL) + 2 * np.arange(Q)[None, :] * BL + lane[:, None]
        return self.T[blk[:, None], OPP[None, :], lane[:, None]].astype(np.int64)

    def get_populations(self, nodes=None) -> tuple[np.ndarray, np.ndarray]:
        """Copies of the electrolyte's and the air's populations R_q, B_q, each shape (19, k).

        ``nodes``: fluid indices (default: all n nodes, in order).
        """
        flat = self.fa.reshape(-1)
        nodes = np.arange(self.n) if nodes is None else np.asarray(nodes)
        r = np.empty((Q, nodes.size))
        b = np.empty((Q, nodes.size))
        for k in range(0, nodes.size, _CHUNK):      # in chunks: the addresses are 8 B per value
            at = self._addresses(nodes[k:k + _CHUNK])
            r[:, k:k + _CHUNK] = flat[at].T
            b[:, k:k + _CHUNK] = flat[at + BL].T
        return r, b

    def set_populations(self, r, b, nodes=None) -> None:
        """Set R_q and B_q, each shape (19, k), of the fluid nodes ``nodes`` (default: all)."""
        flat = self.fa.reshape(-1)
        nodes = np.arange(self.n) if nodes is None else np.asarray(nodes)
        r, b = np.asarray(r), np.asarray(b)
        for k in range(0, nodes.size, _CHUNK):
            at = self._addresses(nodes[k:k + _CHUNK])
            flat[at] = r[:, k:k + _CHUNK].T
            flat[at + BL] = b[:, k:k + _CHUNK].T

    @property
    def r(self) -> np.ndarray:
        """The electrolyte's populations R_q, shape (19, n_fluid) (a copy)."""
        return self.get_populations()[0]

    @property
    def b(self) -> np.ndarray:
        """The air's populations B_q, shape (19, n_fluid) (a copy)."""
        return self.get_populations()[1]

    def update_phase(self) -> None:
        """Recompute ``phi`` and ``rho`` from the populations (after :meth:`set_populations`)."""
        if self.steps % 2 == 0:
            kern.phase(self.fa, self._phi, self._rho)
        else:
            kern.phase_odd(self.fa, self.T, OPP, self._phi, self._rho, self.lead, self._sink)

    def _equilibrium_from(self, inner, rho=1.0):
        """Populations at ``rho`` moving with the velocity of the nodes ``inner``, shape (19, k)."""
        r, b = self.get_populations(inner)
        f = r + b
        u = (_CF.T @ f) / f.sum(axis=0)
        cu = _CF @ u
        return rho * W[:, None] * (1.0 + 3.0 * cu + 4.5 * cu * cu - 1.5 * (u * u).sum(axis=0))

    def _hold(self):
        """Reset the reservoirs: electrolyte at the top (rho ``inlet_rho``), air at the bottom (1).

        Each reservoir node takes the equilibrium at its density with the velocity of its interior
        neighbour: at rest (u = 0) the layer would need a density step of 6 x the mass flux to
        let fluid through, which in a slit exceeds the viscous pressure drop ten times over.
        """
        if self.inlet.size:
            feq = self._equilibrium_from(self.inlet_in, self.inlet_rho)
            self.set_populations(feq, np.zeros_like(feq), self.inlet)
        if self.outlet.size:
            # an air vent: air leaves, electrolyte does not (held at air, as a gas-permeable,
            # liquid-tight membrane).  Taking the neighbour's colour instead let electrolyte that
            # reached the outlet spread along it and feed the electrode from below.
            feq = self._equilibrium_from(self.outlet_in)
            self.set_populations(np.zeros_like(feq), feq, self.outlet)

    def step(self, n: int = 1) -> None:
        """Advance ``n`` time steps."""
        force = bool(np.any(self.force != 0.0))
        kernels = (kern.collide_stream(force, False), kern.collide_stream(force, True))
        fx, fy, fz = (float(v) for v in self.force)
        for _ in range(n):
            self.update_phase()
            kernels[self.steps % 2](self.fa, self.T, self._phi, self.nwt, self.cos_t, self.wall, self.nu[0],
                                    self.nu[1], self.amplitude, self.beta, fx, fy, fz, MAGIC, self.lead,
                                    self._sink)
            self.steps += 1
            self._hold()
        self.update_phase()

    def masses(self) -> tuple[float, float]:
        """Total electrolyte and air mass (lattice units)."""
        k = self.n - (self.fa.shape[0] - 1) * BL      # real nodes in the last block
        red = self.fa[:-1, 0::2].sum() + self.fa[-1, 0::2, :k].sum()
        blue = self.fa[:-1, 1::2].sum() + self.fa[-1, 1::2, :k].sum()
        return float(red), float(blue)

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
        j = np.empty((self.n, 3))
        for k in range(0, self.n, _CHUNK):          # in chunks: no full copy of the populations
            r, b = self.get_populations(np.arange(k, min(self.n, k + _CHUNK)))
            j[k:k + _CHUNK] = ((r + b).T @ _CF)
        return j / self.rho[:, None] + 0.5 * self.force / self.rho[:, None]
