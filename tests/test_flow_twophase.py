"""The colour-gradient two-fluid lattice against the Laplace law and conservation of mass.

References: Laplace's law (the pressure jump across a curved interface is the tension times the
curvature: sigma / R for a cylinder, 2 sigma / R for a sphere), the perturbation operator's
tension ``sigma = 2 A / 9`` in lattice units for the amplitude divided by the relaxation time
(Chapman-Enskog, Reis & Phillips 2007 with the D3Q19 weights of Leclaire et al. 2017), and the
conservation of each fluid's mass by collision, recolouring and bounce-back.
"""

from __future__ import annotations

import numpy as np
import pytest

from electrovox.solvers.flow.twophase import ColourGradient

A = 1e-3                       # perturbation amplitude: sigma = 2 A / 9 = 2.22e-4 lattice units


def _cylinder(radius, n=64, nu=(1 / 6, 1 / 6), steps=3000):
    """A static cylinder of electrolyte (axis along y) in air; returns the model and distances."""
    z, x = np.mgrid[:n, :n]
    d = np.sqrt((z - n / 2 + 0.5) ** 2 + (x - n / 2 + 0.5) ** 2)
    m = ColourGradient(np.ones((n, 1, n), bool), np.tanh((radius - d) / 1.5)[:, None, :],
                       nu_electrolyte=nu[0], nu_air=nu[1], amplitude=A)
    m.step(steps)
    return m, d


def _jump(m, d, radius):
    """Pressure inside minus outside, 4 nodes clear of the interface (2-3 nodes wide)."""
    p = m.pressure()[:, 0, :]
    return p[d < radius - 4].mean() - p[d > radius + 4].mean()


def test_laplace_law_cylinders():
    """Three cylinders (R = 10, 14, 20 nodes): the tension from the jump, sigma = dp R, is the same
    within 3 % (Laplace; measured spread 2 %, the diffuse interface's curvature error falls as
    1/R) and within 4 % of 2 A / 9; the spurious velocities stay below 1e-4 lattice units (the
    issue's bound; 6e-6 measured); each fluid's mass is conserved to 1e-11 (rounding over 3000
    steps)."""
    sig = []
    for radius in (10, 14, 20):
        m, d = _cylinder(radius)
        m0 = np.array(m.masses())
        sig.append(_jump(m, d, radius) * radius)
        assert np.abs(np.linalg.norm(m.velocity(), axis=1)).max() < 1e-4
        m.step(10)
        assert np.allclose(m.masses(), m0, rtol=1e-11, atol=0)
    sig = np.array(sig)
    assert sig.max() / sig.min() < 1.03, sig
    assert sig.mean() == pytest.approx(2 * A / 9, rel=0.04), sig


def test_laplace_law_sphere():
    """A sphere of radius 8 in a 32^3 periodic box: dp = 2 sigma / R with sigma = 2 A / 9, within
    8 % (a radius of 8 nodes against a 2-3 node interface: the cylinders' 1/R trend puts the
    curvature error at ~3 % per curvature at R = 10, doubled for a sphere's two)."""
    n, radius = 32, 8
    z, y, x = np.mgrid[:n, :n, :n]
    d = np.sqrt((z - n / 2 + 0.5) ** 2 + (y - n / 2 + 0.5) ** 2 + (x - n / 2 + 0.5) ** 2)
    m = ColourGradient(np.ones((n, n, n), bool), np.tanh((radius - d) / 1.5), amplitude=A)
    m.step(1500)
    p = m.pressure()
    dp = p[d < radius - 4].mean() - p[d > radius + 4].mean()
    assert dp == pytest.approx(2 * (2 * A / 9) / radius, rel=0.08)


def test_mass_is_conserved_in_a_porous_medium():
    """Electrolyte invading a random porous slab under a body force: with bounce-back walls and
    recolouring, each fluid's mass is unchanged to 1e-12 after 400 steps, and the electrolyte
    has moved (its centre of mass shifts along the force)."""
    rng = np.random.default_rng(0)
    solid = rng.random((24, 12, 12)) < 0.25
    solid[:, 0, :] = True                      # a wall keeps the flow from short-circuiting along y
    fluid = ~solid
    z = np.arange(24)[:, None, None] * np.ones((1, 12, 12))
    phi0 = np.where(z >= 18, 1.0, -1.0)
    m = ColourGradient(fluid, phi0, contact_deg=45.0, amplitude=A, force=(0.0, 0.0, -1e-5))
    m0 = np.array(m.masses())
    zc0 = np.nansum(m.field(m.r.sum(0), 0.0) * z) / m0[0]
    m.step(400)
    assert np.allclose(m.masses(), m0, rtol=1e-12, atol=0)
    zc1 = np.nansum(m.field(m.r.sum(0), 0.0) * z) / m0[0]
    assert zc1 < zc0 - 0.1


def _contour(phi):
    """Points of the phi = 0 contour of a 2D field (linear interpolation along rows and columns)."""
    pts = []
    for axis in (0, 1):
        a = phi if axis == 0 else phi.T
        s = a[:-1] * a[1:]
        i, j = np.nonzero(np.isfinite(s) & (s < 0))
        t = a[i, j] / (a[i, j] - a[i + 1, j])
        pts += [(i + t, j)] if axis == 0 else [(j, i + t)]
    return np.concatenate([np.stack(p, axis=1) for p in pts])


@pytest.mark.parametrize("theta", [30.0, 60.0, 90.0, 120.0, 150.0])
def test_static_contact_angle(theta):
    """A drop (a cylinder cap, quasi-2D) on a flat wall set to theta keeps theta within 3 degrees
    (the issue's tolerance) after 4000 steps: the angle from a circle fitted to the phi = 0
    contour more than 3 nodes above the wall (the wall midway between the solid layer and the
    first fluid node, halfway bounce-back).  The drop starts as the cap of theta with the area of
    a half disc of radius 20; a wetting condition with a bias drifts away from it (the geometric
    correction without the tangential-magnitude fix held 145 degrees at 150)."""
    nz, nx, r0 = 60, 160, 20.0
    fluid = np.ones((nz, 1, nx), bool)
    fluid[0] = False
    th = np.radians(theta)
    rc = np.sqrt(np.pi * r0 ** 2 / 2 / (th - np.sin(th) * np.cos(th)))    # cap of the same area
    zc = 0.5 - rc * np.cos(th)
    z, x = np.mgrid[:nz, :nx]
    d = np.sqrt((z - zc) ** 2 + (x - nx / 2) ** 2)
    m = ColourGradient(fluid, np.tanh((rc - d) / 1.5)[:, None, :], contact_deg=theta,
                       amplitude=1e-2, nu_electrolyte=0.05, nu_air=0.05)
    m.step(4000)
    p = _contour(m.phase_field()[:, 0, :])
    p = p[p[:, 0] > 3.0]
    # algebraic circle fit: z^2 + x^2 = 2 a z + 2 b x + c
    sol = np.linalg.lstsq(np.c_[2 * p[:, 0], 2 * p[:, 1], np.ones(len(p))], (p ** 2).sum(1), rcond=None)[0]
    radius = np.sqrt(sol[2] + sol[0] ** 2 + sol[1] ** 2)
    measured = np.degrees(np.arccos(np.clip((0.5 - sol[0]) / radius, -1, 1)))
    assert measured == pytest.approx(theta, abs=3.0)


def _slit_between_reservoirs(h, nz, wet, **model):
    """A slit h nodes wide (walls along x), nz long, its last ``wet`` layers electrolyte, between
    the inlet and outlet reservoirs; returns the model and a function giving the electrolyte
    column below the inlet layer in nodes (the width-averaged saturation)."""
    fluid = np.ones((nz, 1, h + 2), bool)
    fluid[:, :, [0, -1]] = False
    z = np.arange(nz)[:, None, None] * np.ones((1, 1, h + 2))
    m = ColourGradient(fluid, np.where(z >= nz - wet, 1.0, -1.0), reservoirs=True, **model)

    def length():
        return float(((m.phase_field()[1:-1, 0, 1:-1].mean(axis=1) + 1) / 2).sum())
    return m, length


@pytest.mark.parametrize("nu", [(0.05, 0.05), (0.1, 0.02)])
def test_washburn_filling_of_a_slit(nu):
    """Electrolyte (contact angle 30 degrees) fills a slit 10 nodes wide from the inlet reservoir,
    pushing air out through the outlet reservoir (both at the same pressure): the penetration
    follows Washburn with both viscosities,
    ``(mu_e l + mu_a (L - l)) dl/dt = sigma h cos(theta) / 6`` (Poiseuille in the slit, the
    capillary pressure 2 sigma cos(theta) / h, sigma = 2 A / 9), integrated from the length at
    step 2500 (the meniscus formed); the length gained by step 30 000 within 10 % (the issue's
    tolerance; 2.4 % measured at equal viscosities, 0.6 % at an electrolyte 5x more viscous)."""
    from scipy.integrate import solve_ivp
    h, nz, theta, amp = 10, 70, 30.0, 0.01
    m, length = _slit_between_reservoirs(h, nz, 4, contact_deg=theta, amplitude=amp, nu_electrolyte=nu[0],
                                         nu_air=nu[1])
    m.step(2500)
    l0 = length()
    m.step(27500)
    l1 = length()
    big_l = nz - 2
    k = (2 * amp / 9) * h * np.cos(np.radians(theta)) / 6
    sol = solve_ivp(lambda t, y: [k / (nu[0] * y[0] + nu[1] * (big_l - y[0]))], (2500, 30000), [l0], rtol=1e-8)
    expected = sol.y[0][-1]
    assert l1 - l0 == pytest.approx(expected - l0, rel=0.10), (l0, l1, expected)


def test_a_small_trapped_bubble_keeps_its_volume():
    """An air bubble of radius 4 nodes (8 across, the size of the trapped pockets in a pore
    network) in electrolyte beside a wetting wall, viscosity ratio 5: from step 1000 (the
    interface relaxed) to step 5000 the air within 2 nodes of its rim (the bubble with its
    interface) stays within 1 % (the issue's tolerance; -0.17 % measured), so the bubble neither dissolves into the
    electrolyte nor is compressed away (its Laplace pressure changes the air density by ~3e-3)."""
    n, radius = 20, 4.0
    z, y, x = np.mgrid[:n, :n, :n]
    d = np.sqrt((z - 10) ** 2 + (y - 10) ** 2 + (x - 10) ** 2)
    fluid = np.ones((n, n, n), bool)
    fluid[:, :, 0] = False
    # a sharp start: all the air in the bubble (a tanh profile leaves 1e-4-level air everywhere)
    m = ColourGradient(fluid, np.where(d < radius + 0.5, -1.0, 1.0), contact_deg=30.0, amplitude=1e-2,
                       nu_electrolyte=0.1, nu_air=0.02)
    near = (d < radius + 2)[fluid]
    volumes = []
    for steps in (1000, 4000):
        m.step(steps)
        volumes.append(((1 - m.phi) / 2)[near].sum())
    assert volumes[1] == pytest.approx(volumes[0], rel=0.01), volumes


def _reference_step(m, fluid):
    """One step of the model written plainly in numpy, direction by direction, from the equations
    in ``solvers/flow/twophase.py``'s docstring (an independent transcription of the generated
    kernel): returns the populations (R, B), each (19, n), after the push."""
    from electrovox.solvers.flow.lattice import OPP, C, W, neighbour_list
    from electrovox.solvers.flow.twophase import MAGIC
    from electrovox.solvers.flow.twophase_kernel import B_WEIGHTS
    c = C.astype(float)
    nb = neighbour_list(fluid)
    r, b = m.get_populations()
    f = r + b
    rr, bb = r.sum(0), b.sum(0)
    rho = rr + bb
    phi = (rr - bb) / rho
    force = np.asarray(m.force)
    u = (c.T @ f + 0.5 * force[:, None]) / rho
    # colour gradient: solid neighbours mirror the node's phase
    p = np.where(nb >= 0, phi[np.maximum(nb, 0)], phi[None, :])
    g = 3.0 * (c.T * W) @ p
    gn = np.linalg.norm(g, axis=0)
    wn = m.nwt[:, :m.n]
    wet = (m.wall[:m.n] == 1) & (gn > 1e-12)
    for k in np.nonzero(wet)[0]:
        ct = m.cos_t[k]
        nrm = g[:, k] / gn[k]
        t = nrm - (nrm @ wn[:, k]) * wn[:, k]
        tl = np.linalg.norm(t)
        st = np.sqrt(1 - ct * ct) if tl > 1e-12 else 0.0
        if tl <= 1e-12:
            ct = 1.0 if ct >= 0 else -1.0
        t = t / tl if tl > 1e-12 else t
        mag = min(tl * gn[k] / st, 3 * gn[k]) if st > 0.2 else gn[k]
        g[:, k] = mag * (-ct * wn[:, k] + st * t)
        gn[k] = mag
    nu = m.nu[1] * (m.nu[0] / m.nu[1]) ** ((1 + np.clip(phi, -1, 1)) / 2)
    tau = 3 * nu + 0.5
    om, om_m = 1 / tau, 1 / (0.5 + MAGIC / (tau - 0.5))
    cu = c @ u
    usq = (u * u).sum(0)
    feq = W[:, None] * rho * (1 + 3 * cu + 4.5 * cu ** 2 - 1.5 * usq)
    cf = c @ force
    src = W[:, None] * (3 * (cf[:, None] - (force @ u)[None, :]) + 9 * cu * cf[:, None])
    fo = f[OPP]
    sym, asym = (f + fo) / 2 - (feq + feq[OPP]) / 2, (f - fo) / 2 - (feq - feq[OPP]) / 2
    ssym, sasym = (src + src[OPP]) / 2, (src - src[OPP]) / 2
    post = f - om * sym - om_m * asym + (1 - om / 2) * ssym + (1 - om_m / 2) * sasym
    # perturbation and recolouring
    has = gn > 1e-12
    cg = np.where(has, (c @ g) / np.where(has, gn, 1.0), 0.0)
    post = post + np.where(has, 0.5 * m.amplitude * om * gn, 0.0) * (W[:, None] * cg ** 2 - B_WEIGHTS[:, None])
    clen = np.linalg.norm(c, axis=1)
    cosang = np.divide(cg, clen[:, None], out=np.zeros_like(cg), where=clen[:, None] > 0)
    red = rr / rho * post + np.where(has, m.beta * rr * bb / rho, 0.0) * W[:, None] * cosang
    blue = post - red
    # push, or halfway bounce-back into the opposite direction
    r1, b1 = np.empty_like(red), np.empty_like(blue)
    for q in range(19):
        to = nb[q] >= 0
        r1[q, nb[q, to]], b1[q, nb[q, to]] = red[q, to], blue[q, to]
        r1[OPP[q], ~to], b1[OPP[q], ~to] = red[q, ~to], blue[q, ~to]
    return r1, b1


@pytest.mark.parametrize("force", [(0.0, 0.0, 0.0), (2e-6, -1e-6, -1e-5)])
def test_generated_kernel_matches_a_plain_transcription(force):
    """One step of the generated, vectorised kernel against the plain numpy transcription above,
    on a random porous block with two wettabilities, an interface and a number of nodes that does
    not fill the last block: the same populations to 1e-12 (the kernel's exponential is a
    polynomial good to 1e-12 and its sums run in another order: 2.8e-16 measured).
    Then the same steps on 1 and 2 threads agree bit for bit (each node's arithmetic is its own)."""
    import numba
    rng = np.random.default_rng(5)
    fluid = rng.random((14, 9, 11)) > 0.3
    fluid[0, 0, 0] = not fluid[0, 0, 0]         # 960 fluid nodes (whole blocks) without it
    z = np.arange(14)[:, None, None] * np.ones(fluid.shape)
    ang = np.where(rng.random(fluid.shape) < 0.5, 30.0, 140.0)
    m = ColourGradient(fluid, np.tanh((z - 6.5) / 1.5), contact_deg=ang, nu_electrolyte=0.1, nu_air=0.005,
                       amplitude=0.01, force=force)
    assert m.n % 32 != 0
    m.step(5)                                  # a moving, curved interface
    want = _reference_step(m, fluid)
    m.step(1)
    got = m.get_populations()
    for g, w in zip(got, want, strict=True):
        assert np.abs(g - w).max() < 1e-12
    saved = m.get_populations()
    runs = []
    for threads in (1, 2):
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        m.set_populations(*saved)
        m.update_phase()
        m.step(20)
        runs.append(m.get_populations())
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    assert all(np.array_equal(a, b) for a, b in zip(*runs, strict=True))


def test_a_step_does_not_depend_on_where_the_arrays_lie():
    """The same set-up, built 300 times with the heap shuffled in between so that its arrays and the
    kernel's scratch land at other addresses, gives the same populations after two steps (an even
    and an odd one), bit for bit.  Compiled with fast-math the result depended on the addresses
    (likely: LLVM's vectorised loop against its scalar copy for arrays it cannot prove apart, which
    round differently under fast-math; not checked in the machine code): 2-7 % of such set-ups
    differed by an ulp (2026-12-07; 6 of 300 here with the flags put back), so 300 miss that with
    probability < 0.3 %."""
    rng = np.random.default_rng(11)
    fluid = rng.random((14, 9, 11)) > 0.3
    z = np.arange(14)[:, None, None] * np.ones(fluid.shape)
    ang = np.where(rng.random(fluid.shape) < 0.5, 30.0, 140.0)
    first, keep, differ = None, [], 0
    for _ in range(300):
        keep.append(np.empty(int(rng.integers(1, 5000))))    # move the next allocations
        if rng.random() < 0.5:
            keep.pop(int(rng.integers(len(keep))))
        m = ColourGradient(fluid, np.tanh((z - 6.5) / 1.5), contact_deg=ang, nu_electrolyte=0.1, nu_air=0.005,
                           amplitude=0.01, force=(1e-5, -2e-6, 3e-6))
        m.step(2)
        got = m.get_populations()
        if first is None:
            first = got
        differ += not all(np.array_equal(a, b) for a, b in zip(first, got, strict=True))
    assert differ == 0


def test_the_kernels_node_of_an_address_is_integer_division():
    """The kernel finds the node of a flat address in floating point (``node_of``, faster than
    numba's integer floor division).  It must equal ``(t // (38 BL)) * BL + t % BL`` exactly: checked
    here at every block's first and last address and at random ones, for blocks up to 2^31 / (38 BL)
    (int32 addresses) and for a sample up to 1e11 blocks (int64 addresses)."""
    from electrovox.solvers.flow.twophase_kernel import BL, node_of
    span = 2 * 19 * BL
    rng = np.random.default_rng(2)
    blocks = np.concatenate([np.arange(2 ** 31 // span + 1), rng.integers(0, 10 ** 11, 200_000)]).astype(np.int64)
    for off in (0, span - 1, rng.integers(0, span, blocks.size)):
        t = blocks * span + off
        expr = node_of("t").replace("int(", "np.floor(", 1)     # numba's int() truncates; t >= 0
        got = eval(expr, {"np": np, "t": t})    # the kernel's own expression, in numpy's float64
        assert np.array_equal(got.astype(np.int64), (t // span) * BL + t % BL)


def test_reading_ahead_changes_no_bit():
    """The gathering kernels first read block ``blk + lead`` in address order, for speed only.
    In a fully fluid 24 x 32 x 32 box (BL = 32 nodes a block: a block is a row, a z-plane 32
    blocks) the farthest forward neighbour of a row's last node is one plane and one row ahead,
    (31 + 1024 + 32) // 32 = 33 blocks; the blocks whose periodic wrap reaches farther (the
    first plane's along -z, each plane's first row along -y) are 7 % < 10 %, so the lead is
    33 + 8.  A pore space run with that lead and with none gives the
    same populations bit for bit after an even and an odd step and after 40 steps: the reads
    write nothing the step uses."""
    from electrovox.solvers.flow.twophase_kernel import touch_lead
    assert ColourGradient(np.ones((24, 32, 32), bool), np.ones((24, 32, 32))).lead == 33 + 8
    rng = np.random.default_rng(5)
    fluid = rng.random((30, 16, 16)) > 0.35
    z = np.arange(30)[:, None, None] * np.ones(fluid.shape)
    runs = []
    for lead in (None, 10 ** 9):
        m = ColourGradient(fluid, np.tanh((z - 14.5) / 1.5), contact_deg=40.0, nu_electrolyte=0.1, nu_air=0.005,
                           amplitude=0.01, force=(1e-5, 0.0, 2e-6))
        assert m.lead == touch_lead(m.T) and 1 < m.lead < m.fa.shape[0]     # the reads do happen here
        if lead is not None:
            m.lead = lead
        m.step(2)
        got = m.get_populations()
        m.step(38)
        runs.append((got, m.get_populations(), m.phi.copy()))
    (a2, a40, aphi), (b2, b40, bphi) = runs
    assert all(np.array_equal(x, y) for x, y in zip(a2 + a40, b2 + b40, strict=True))
    assert np.array_equal(aphi, bphi)


@pytest.mark.parametrize("drive", [0.5, 3.0])
def test_overpressure_against_the_entry_pressure_of_a_non_wetting_slit(drive):
    """A slit 10 nodes wide whose walls the electrolyte does not wet (120 degrees) resists entry
    with the capillary pressure |P_c| = 2 sigma |cos(theta)| / h.  An inlet overpressure of half
    of it leaves the meniscus where it is (it moves less than 1.5 nodes in 16 000 steps; -0.19
    measured); three times it pushes the electrolyte in as Poiseuille flow under the net pressure,
    ``(mu_e l + mu_a (L - l)) dl/dt = h^2 / 12 (dp - |P_c|)``, the length gained within 10 % (the
    issue's Washburn tolerance; -5.5 % measured)."""
    from scipy.integrate import solve_ivp
    h, nz, theta, amp, nu = 10, 50, 120.0, 0.01, (0.1, 0.02)
    sigma = 2 * amp / 9
    pc = 2 * sigma * abs(np.cos(np.radians(theta))) / h
    m, length = _slit_between_reservoirs(h, nz, 6, contact_deg=theta, amplitude=amp, nu_electrolyte=nu[0],
                                         nu_air=nu[1], inlet_overpressure=drive * pc)
    m.step(2000)
    l0 = length()
    m.step(16000)
    l1 = length()
    if drive < 1:
        assert abs(l1 - l0) < 1.5, (l0, l1)
        return
    k = h * h / 12 * (drive * pc - pc)
    big_l = nz - 2
    sol = solve_ivp(lambda t, y: [k / (nu[0] * y[0] + nu[1] * (big_l - y[0]))], (2000, 18000), [l0], rtol=1e-8)
    assert l1 - l0 == pytest.approx(sol.y[0][-1] - l0, rel=0.10), (l0, l1, sol.y[0][-1])
