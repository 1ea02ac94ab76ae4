"""Carbon-binder domain (CBD) in the pore space: slurry lumps, or lumps tied by dry-process fibrils.

The CBD (carbon black or fibres plus binder, nanoporous) sits where it does in real cathodes:
wedged into the necks between particles and stuck to their surfaces.  Its connectivity depends
on the process (the study's Fig. 6): in slurry-coated electrodes the solvent's capillary flow
during drying gathers it into compact, poorly connected aggregates (largest aggregate 23.6 %
of all CBD); in dry-coated electrodes PTFE fibrillation and carbon fibres tie it into a network
(57 %).  :func:`place_cbd` builds both from the same parts, so that the difference in
connectivity follows from the morphology, not from a tuned number:

- lumps (both): balls of log-normal radius (median ``lump_radius_um`` = 1.5 um: agglomerates
  of a few um) whose centres are pore voxels drawn with probability ``b**3``, ``b`` the solid
  fraction in a Gaussian window of 1 um around the voxel (relative to its maximum): lumps sit
  in necks and crevices first, then on surfaces, never far out in a pore.  Alone (``slurry``) they touch one another
  only by chance and stay poorly connected;
- fibrils (``dry``): each lump starts ``fibrils_per_lump`` strands (1 on average) of radius
  ``fibril_radius_um`` (0.5 um, at least one coarsest voxel) to lumps drawn among its 6 nearest
  within 6 lump radii, straight through the pore or, where a particle is in the way, bent once
  around it (a random waypoint beside the midpoint).  A network of mean degree ~2 plus the
  lumps' own contacts lies above the percolation threshold of the lump graph, so most of the
  CBD joins one aggregate.

Each object paints a score ``1 - d / r`` (d the distance to its centre or axis, r its radius;
fibrils ``2 - d / r``, so that they are kept whole); lumps are added in batches until they cover
the target volume, and the CBD is the ``round(target_fraction * size)`` pore voxels of highest
score: the volume is exact to the voxel, and the surplus (the last batch, the fibrils) is shaved
evenly off the lumps.

Connectivity measured (6-connected, 9 % CBD, 0.5 um voxels, ~62 % solid): on the generator's
packings (d50 10 um, 128^3-512^3) slurry 0.15-0.26, dry 0.8-0.9; on narrowly graded sphere
packings (d ~ 10 um, narrow size spread) slurry 0.06-0.15, dry 0.25-0.7.  The study's 57 %
sits at the percolation threshold of this construction: 0.6-0.7 fibrils per lump give 0.2-0.7
on the generator's packings, seed to seed; the default (1) stays clearly above it.  Fine
powders (d ~ 6 um: more necks for the same CBD) need about 2 fibrils per lump to connect.

Units and conventions: arrays ``[z, y, x]``; ``spacing`` (dz, dy, dx) in um, anisotropic
allowed (objects are round in um); voxel ``(k, j, i)`` centred at ``(k dz, j dy, i dx)``.
Aggregates are 6-connected (face neighbours: voxels touching only along an edge or at a corner
are not one aggregate) unless stated otherwise.

Cycling: :func:`detach_cbd` opens a gap between CBD and particles over a requested share of
their contact area (the study's -10 % / -20 %), keeping the CBD volume;
:func:`contact_area_faces` measures the contact as a count of voxel faces.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage as ndi
from scipy.spatial import cKDTree

from electrovox.errors import BadInput
from electrovox.progress import report
from electrovox.solvers.phantoms._common import rng as _rng
from electrovox.solvers.phantoms._common import spacing3 as _spacing

#: Morphology presets (um).  ``fibril_radius_um`` is raised to the coarsest voxel size so that
#: fibrils stay at least two voxels across (and 6-connected).
MORPHOLOGIES: dict[str, dict[str, float]] = {
    "slurry": {"lump_radius_um": 1.5, "fibrils_per_lump": 0.0, "fibril_radius_um": 0.5},
    "dry": {"lump_radius_um": 1.5, "fibrils_per_lump": 1.0, "fibril_radius_um": 0.5},
}
#: Fibrils join a lump to its nearest lumps (at most this many) within LINK_RANGE lump radii.
LINK_NEIGHBOURS = 6
LINK_RANGE = 6.0
#: Tries of a bent route (one waypoint) when the straight one crosses a particle.
LINK_DETOURS = 6
#: Log-normal spread (ln units) of the lump radius.
LUMP_SIGMA = 0.3
#: Gaussian window (um) of the local solid fraction that places the lumps.
NECK_WINDOW_UM = 1.0
#: Lump centres are drawn with probability b**NECK_POWER (b: local solid fraction).
NECK_POWER = 3.0
#: Contact-loss patches: typical radius (um) of the detached patches.
PATCH_RADIUS_UM = 2.0


def _mask(a, name: str) -> np.ndarray:
    a = np.asarray(a)
    if a.ndim != 3:
        raise BadInput(name, f"{a.ndim}-dimensional array", "give a 3-D mask [z, y, x]")
    return a.astype(bool, copy=False)


# ----------------------------------------------------------------------------------------------
# measures


def contact_area_faces(a_mask, b_mask, spacing) -> float:
    """Contact area between two voxel sets: the faces shared by an a-voxel and a b-voxel.

    Each shared face counts its area (dy*dx for faces normal to z, dz*dx normal to y, dz*dy
    normal to x).  This plain face-count estimator is biased high in absolute terms on curved or
    oblique surfaces (a staircase has more area than the surface it samples: up to sqrt(3) for
    a plane at 45 degrees to all axes, ~1.5 on average for a sphere) but the bias cancels in
    relative changes of the same geometry, which is what the cycling transform reports.

    Parameters
    ----------
    a_mask, b_mask : (nz, ny, nx) bool arrays
        The two voxel sets ``[z, y, x]`` (same shape).
    spacing : float or (3,) floats, um
        Voxel size (dz, dy, dx).

    Returns
    -------
    float
        Contact area in um^2.

    Raises
    ------
    BadInput
        Masks that are not 3D or differ in shape.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.zeros((1, 1, 2), bool)
    >>> a[0, 0, 0] = True
    >>> contact_area_faces(a, ~a, (1.0, 0.5, 0.5))          # one face normal to x: dz * dy
    0.5
    """
    a = _mask(a_mask, "a_mask")
    b = _mask(b_mask, "b_mask")
    s = _spacing(spacing)
    if a.shape != b.shape:
        raise BadInput("b_mask", f"shape {b.shape} differs from {a.shape}", "give masks on the same grid")
    face = (s[1] * s[2], s[0] * s[2], s[0] * s[1])
    total = 0.0
    for ax in range(3):
        lo = [slice(None)] * 3
        hi = [slice(None)] * 3
        lo[ax] = slice(0, -1)
        hi[ax] = slice(1, None)
        lo, hi = tuple(lo), tuple(hi)
        n = np.count_nonzero(a[lo] & b[hi]) + np.count_nonzero(a[hi] & b[lo])
        total += n * face[ax]
    return float(total)


def aggregate_shares(mask, connectivity: int = 6) -> np.ndarray:
    """Sizes of the connected aggregates of a mask as shares of its volume, largest first.

    Parameters
    ----------
    mask : (nz, ny, nx) bool array
        The voxel set ``[z, y, x]``.
    connectivity : {6, 18, 26}
        Neighbours that connect: 6 (faces), 18 (faces and edges) or 26 (also corners).

    Returns
    -------
    (K,) float array
        Share of the mask's voxels in each of its K aggregates, in decreasing order (empty for an
        empty mask).

    Raises
    ------
    BadInput
        A mask that is not 3D, or another connectivity.

    Examples
    --------
    >>> import numpy as np
    >>> m = np.zeros((1, 1, 5), bool)
    >>> m[0, 0, [0, 1, 2, 4]] = True
    >>> aggregate_shares(m).tolist()
    [0.75, 0.25]
    """
    m = _mask(mask, "mask")
    rank = {6: 1, 18: 2, 26: 3}.get(int(connectivity))
    if rank is None:
        raise BadInput("connectivity", f"{connectivity}", "give 6, 18 or 26")
    lab, n = ndi.label(m, ndi.generate_binary_structure(3, rank))
    if n == 0:
        return np.zeros(0)
    sizes = np.bincount(lab.reshape(-1))[1:]
    return np.sort(sizes)[::-1] / sizes.sum()


def largest_aggregate_share(mask, connectivity: int = 6) -> float:
    """Share of the mask's volume in its largest connected aggregate (0 for an empty mask).

    Parameters
    ----------
    mask : (nz, ny, nx) bool array
        The voxel set ``[z, y, x]``.
    connectivity : {6, 18, 26}
        Neighbours that connect, as in :func:`aggregate_shares`.

    Returns
    -------
    float
        0..1.

    Examples
    --------
    >>> import numpy as np
    >>> largest_aggregate_share(np.ones((2, 2, 2), bool))
    1.0
    """
    shares = aggregate_shares(mask, connectivity)
    return float(shares[0]) if len(shares) else 0.0


# ----------------------------------------------------------------------------------------------
# placement


class _Painter:
    """Paints object scores ``1 - d/r`` into a float32 volume (max over objects), in um."""

    def __init__(self, shape, s, periodic):
        self.shape = np.asarray(shape)
        self.s = s
        self.periodic = (False, bool(periodic), bool(periodic))  # lateral faces only, as packing
        self.score = np.full(tuple(shape), -np.inf, np.float32)

    def _window(self, lo_um, hi_um):
        """(selection, coordinate grids in um) of the voxels within [lo_um, hi_um].

        On periodic axes the window wraps (index modulo n) while its coordinates run on
        continuously, so an object across a face continues on the other side.
        """
        idx, coords, fancy = [], [], False
        for ax in range(3):
            n = int(self.shape[ax])
            a = int(math.floor(lo_um[ax] / self.s[ax] + 0.5))
            b = int(math.floor(hi_um[ax] / self.s[ax] + 0.5)) + 1
            if self.periodic[ax]:
                b = min(b, a + n)
                if a >= 0 and b <= n:
                    ix = slice(a, b)
                else:
                    ix = np.arange(a, b) % n
                    fancy = True
            else:
                a, b = max(a, 0), min(b, n)
                if b <= a:
                    return None, None
                ix = slice(a, b)
            shp = [1, 1, 1]
            shp[ax] = -1
            coords.append((np.arange(a, b) * self.s[ax]).reshape(shp))
            idx.append(ix)
        if fancy:
            return np.ix_(*[np.arange(ix.start, ix.stop) if isinstance(ix, slice) else ix for ix in idx]), coords
        return tuple(idx), coords

    def _put(self, sel, val):
        cur = self.score[sel]
        self.score[sel] = np.maximum(cur, val.astype(np.float32))

    def ball(self, c, r):
        sel, g = self._window(c - r, c + r)  # scores below 0 are never picked: paint d <= r only
        if sel is None:
            return
        d = np.sqrt((g[0] - c[0]) ** 2 + (g[1] - c[1]) ** 2 + (g[2] - c[2]) ** 2)
        self._put(sel, 1.0 - d / r)

    def rod(self, p0, p1, r, bonus=0.0):
        sel, g = self._window(np.minimum(p0, p1) - r, np.maximum(p0, p1) + r)
        if sel is None:
            return
        v = p1 - p0
        L2 = float((v ** 2).sum())
        x = [g[i] - p0[i] for i in range(3)]
        t = np.clip((x[0] * v[0] + x[1] * v[1] + x[2] * v[2]) / L2, 0.0, 1.0)
        d = np.sqrt((x[0] - t * v[0]) ** 2 + (x[1] - t * v[1]) ** 2 + (x[2] - t * v[2]) ** 2)
        self._put(sel, 1.0 + bonus - d / r)

    def covered(self, pore):
        return int(np.count_nonzero((self.score >= 0) & pore))


def _sample_near_solid(rng, pore, b, n, power, max_rounds=200):
    """Draw ``n`` pore voxels (flat indices) with probability b**power (rejection sampling).

    Without any solid nearby (b = 0 everywhere) the draw falls back to uniform pore voxels.
    """
    out, got = [], 0
    size = pore.size
    pf, bf = pore.reshape(-1), b.reshape(-1)
    bmax = float(b.max())
    for _ in range(max_rounds):
        idx = rng.integers(0, size, max(4 * n, 1024))
        p = bf[idx] / bmax if bmax > 0 else np.ones(len(idx))
        acc = pf[idx] & (rng.random(len(idx)) < p ** power)
        out.append(idx[acc])
        got += int(acc.sum())
        if got >= n:
            break
    return np.concatenate(out)[:n]


def _centres_um(flat, shape, s, rng):
    """Voxel centres of flat indices in um, jittered within the voxel."""
    ijk = np.stack(np.unravel_index(flat, shape), 1).astype(float)
    return (ijk + rng.random(ijk.shape) - 0.5) * s


def place_cbd(solid, spacing, *, target_fraction: float, morphology: str = "slurry", seed: int = 0,
              periodic: bool = False, lump_radius_um: float | None = None, fibrils_per_lump: float | None = None,
              fibril_radius_um: float | None = None, progress=None) -> np.ndarray:
    """Carbon-binder domain voxels in the pore space of an electrode.

    Parameters
    ----------
    solid : (nz, ny, nx) bool array
        True in particles ``[z, y, x]`` (active material, cracks included).
    spacing : float or (3,) floats, um
        Voxel size (dz, dy, dx).
    target_fraction : float, 0..1
        CBD volume as a fraction of the whole grid (e.g. 0.09); met to the voxel.
    morphology : {"slurry", "dry"}
        ``"slurry"``: compact lumps at necks, poorly connected; ``"dry"``: the same lumps tied by
        fibrils (see the module docstring and :data:`MORPHOLOGIES`).
    seed : int
        Everything is deterministic from it.
    periodic : bool
        The lateral (y, x) faces wrap (objects continue across them).
    lump_radius_um : float, um, optional
        Typical lump radius (overrides the preset).
    fibrils_per_lump : float, optional
        Fibrils started per lump on average, 0 for none (overrides the preset).
    fibril_radius_um : float, um, optional
        Fibril radius (overrides the preset).
    progress : callable, optional
        ``progress(fraction, message)``.

    Returns
    -------
    (nz, ny, nx) bool array
        CBD voxels, all in ``~solid``.

    Raises
    ------
    BadInput
        An unknown morphology, preset overrides out of range, or a ``target_fraction`` outside
        [0, 1), above the pore fraction or more than the lumps can cover.

    Examples
    --------
    >>> import numpy as np
    >>> solid = np.zeros((10, 10, 10), bool)
    >>> solid[:5] = True                                    # a solid slab under a pore slab
    >>> cbd = place_cbd(solid, 0.5, target_fraction=0.05, seed=0)
    >>> int(cbd.sum()), bool((cbd & solid).any())
    (50, False)
    """
    S = _mask(solid, "solid")
    s = _spacing(spacing)
    if morphology not in MORPHOLOGIES:
        raise BadInput("morphology", f"unknown CBD morphology {morphology!r}", "use 'slurry' or 'dry'")
    par = dict(MORPHOLOGIES[morphology])
    for key, val in (("lump_radius_um", lump_radius_um), ("fibrils_per_lump", fibrils_per_lump),
                     ("fibril_radius_um", fibril_radius_um)):
        if val is not None:
            par[key] = float(val)
    if not (0 < par["lump_radius_um"] < np.inf and 0 <= par["fibrils_per_lump"] <= LINK_NEIGHBOURS
            and 0 < par["fibril_radius_um"] < np.inf):
        raise BadInput("place_cbd", f"lump radius {par['lump_radius_um']} um, fibrils per lump "
                       f"{par['fibrils_per_lump']} or fibril radius {par['fibril_radius_um']} um out of range",
                       f"give positive radii and 0 to {LINK_NEIGHBOURS} fibrils per lump")
    f = float(target_fraction)
    pore = ~S
    n_pore = int(pore.sum())
    K = int(round(f * S.size))
    if not 0 <= f < 1:
        raise BadInput("target_fraction", f"CBD fraction {target_fraction} outside [0, 1)", "give e.g. 0.09")
    if K > n_pore:
        raise BadInput("target_fraction", f"CBD fraction {f:.4f} exceeds the pore fraction {n_pore / S.size:.4f}",
                       "lower the CBD fraction or the solid fraction")
    out = np.zeros(S.shape, bool)
    if K == 0:
        report(progress, 1.0, "done")
        return out
    report(progress, 0.0, "necks")
    modes = ["nearest", "wrap" if periodic else "nearest", "wrap" if periodic else "nearest"]
    b = ndi.gaussian_filter(S.astype(np.float32), NECK_WINDOW_UM / s, mode=modes, truncate=3.0)
    paint = _Painter(S.shape, s, periodic)
    vox = float(np.prod(s))

    # lumps until the target volume is covered
    rl = par["lump_radius_um"]
    rng = _rng(seed, 0x6C)
    covered = 0
    per = 0.5 * 4.0 / 3.0 * math.pi * rl ** 3 / vox  # first guess: half a ball in the pore
    centres = []
    for _ in range(1000):
        if covered >= K:
            break
        n = max(16, int(math.ceil((K - covered) / per)))
        c = _centres_um(_sample_near_solid(rng, pore, b, n, NECK_POWER), S.shape, s, rng)
        r = rl * np.exp(LUMP_SIGMA * rng.standard_normal(len(c)))
        before = covered
        for ci, ri in zip(c, r, strict=True):
            paint.ball(ci, ri)
        centres.append(c)
        covered = paint.covered(pore)
        if len(c):
            # later batches fill gaps between earlier lumps: estimate from the last batch
            per = max(1.0, (covered - before) / len(c))
        report(progress, 0.05 + 0.75 * min(covered / K, 1.0), "lumps")
    if covered < K:
        raise BadInput("target_fraction", f"could place only {covered / S.size:.4f} of CBD", "lower the fraction")

    # dry: fibrils from lumps to neighbouring lumps through the pore (kept whole: score >= 1)
    if par["fibrils_per_lump"] > 0 and centres:
        rf = max(par["fibril_radius_um"], float(s.max()))
        p0, p1 = _links(np.concatenate(centres), S, s, periodic, max_len=LINK_RANGE * rl,
                        per_lump=par["fibrils_per_lump"], rng=_rng(seed, 0x66))
        for a, e in zip(p0, p1, strict=True):
            paint.rod(a, e, rf, bonus=1.0)
        report(progress, 0.9, "fibrils")

    # the K highest scores in the pore (the shaving); ties at the threshold go by voxel order
    score = paint.score.reshape(-1)
    score[S.reshape(-1)] = -np.inf
    vals = score[score > -np.inf]
    thr = np.partition(vals, len(vals) - K)[len(vals) - K]
    del vals
    flat_out = out.reshape(-1)
    np.greater(score, thr, out=flat_out)
    ties = np.flatnonzero(score == thr)[:K - int(np.count_nonzero(flat_out))]
    flat_out[ties] = True
    report(progress, 1.0, "done")
    return out


def _in_pore(p0, p1, S, s, per, max_len):
    """Whether the segments p0 -> p1 (um) run through pore only (samples every half voxel)."""
    shape = np.asarray(S.shape)
    n = int(math.ceil(max_len / (0.5 * float(s.max())))) + 2
    t = np.linspace(0.0, 1.0, n)
    ok = np.ones(len(p0), bool)
    for lo in range(0, len(p0), 4096):
        q = p0[lo:lo + 4096, None, :] + t[None, :, None] * (p1 - p0)[lo:lo + 4096, None, :]
        ijk = np.floor(q / s + 0.5).astype(np.int64)
        inside = np.ones(ijk.shape[:2], bool)
        for ax in range(3):
            if per[ax]:
                ijk[..., ax] %= shape[ax]
            else:
                inside &= (ijk[..., ax] >= 0) & (ijk[..., ax] < shape[ax])
                ijk[..., ax] = ijk[..., ax].clip(0, shape[ax] - 1)
        ok[lo:lo + 4096] = ~(S[ijk[..., 0], ijk[..., 1], ijk[..., 2]] & inside).any(1)
    return ok


def _route(p0, v, S, s, per, max_len, rng):
    """Fibril routes p0 -> p0 + v through the pore, as strands drawn around the particles.

    A route is straight, else bent once at a waypoint beside the midpoint (LINK_DETOURS random
    tries).

    Returns (ok bool (m,), waypoint (m, 3)); the waypoint of a straight route is its midpoint.
    """
    mid = p0 + 0.5 * v
    ok = _in_pore(p0, p0 + v, S, s, per, max_len)
    way = mid.copy()
    todo = np.flatnonzero(~ok)
    L = np.sqrt((v ** 2).sum(1))
    for _ in range(LINK_DETOURS):
        if len(todo) == 0:
            break
        w = rng.standard_normal((len(todo), 3))
        vt, Lt = v[todo], L[todo]
        w -= (w * vt).sum(1)[:, None] * vt / (Lt ** 2)[:, None]  # perpendicular to the pair
        w /= np.maximum(np.sqrt((w ** 2).sum(1)), 1e-12)[:, None]
        m = mid[todo] + w * (Lt * rng.uniform(0.25, 0.75, len(todo)))[:, None]
        good = _in_pore(p0[todo], m, S, s, per, max_len) & _in_pore(m, p0[todo] + vt, S, s, per, max_len)
        ok[todo[good]] = True
        way[todo[good]] = m[good]
        todo = todo[~good]
    return ok, way


def _links(c, S, s, periodic, *, max_len, per_lump, rng):
    """Fibrils between neighbouring lumps, through the pore.

    Each lump starts ``per_lump`` fibrils on average (an integer part plus a Bernoulli draw for
    the fraction) to lumps drawn at random among its LINK_NEIGHBOURS nearest within max_len
    (um); a candidate whose route is blocked by particles (see :func:`_route`) is skipped for
    the next one.  Counting per lump, not per pair, keeps the network's mean degree (about
    2 per_lump) the same in coarse and fine particle packings.

    Returns (p0, p1) arrays (m, 3) in um of straight pieces; ends may lie beyond a periodic
    face (the painter wraps).
    """
    n = len(c)
    size = np.asarray(S.shape) * s
    per = np.array([False, bool(periodic), bool(periodic)])
    # a k-d tree wraps all axes or none: a wide box keeps the non-periodic axis from wrapping
    box = np.where(per, size, 3.0 * size + 10.0 * max_len)
    pts = np.where(per, np.mod(c, size), c + size + 5.0 * max_len)
    k = min(LINK_NEIGHBOURS + 1, n)
    d, j = cKDTree(pts, boxsize=box).query(pts, k=k)
    i = np.repeat(np.arange(n), k).reshape(n, k)
    ok = (j != i) & (d <= max_len) & (j < n)
    own, oth = i[ok], j[ok]
    order = np.lexsort((rng.random(len(own)), own))  # each lump's candidates in random order
    own, oth = own[order], oth[order]
    first = np.searchsorted(own, np.arange(n + 1))
    quota = np.floor(per_lump) + (rng.random(n) < per_lump - np.floor(per_lump))
    have = np.zeros(n)
    ptr = first[:-1].copy()
    seg0, seg1 = [], []
    for _ in range(k):
        act = np.flatnonzero((have < quota) & (ptr < first[1:]))
        if len(act) == 0:
            break
        a, b = act, oth[ptr[act]]
        ptr[act] += 1
        dv = c[b] - c[a]
        dv = np.where(per, dv - size * np.round(dv / size), dv)  # minimum image on periodic axes
        good, way = _route(c[a], dv, S, s, per, max_len, rng)
        have[a[good]] += 1
        p0, w, p1 = c[a][good], way[good], c[a][good] + dv[good]
        seg0 += [p0, w]
        seg1 += [w, p1]
    if not seg0:
        return np.zeros((0, 3)), np.zeros((0, 3))
    return np.concatenate(seg0), np.concatenate(seg1)


# ----------------------------------------------------------------------------------------------
# cycling: contact loss


def _face_neighbours(flat, shape, target, s):
    """Per voxel (flat indices): summed area (um^2) of its faces shared with ``target`` voxels."""
    nz, ny, nx = shape
    strides = (ny * nx, nx, 1)
    ijk = np.unravel_index(flat, shape)
    face = (s[1] * s[2], s[0] * s[2], s[0] * s[1])
    tf = target.reshape(-1)
    area = np.zeros(len(flat))
    for ax in range(3):
        for step in (-1, 1):
            ok = (ijk[ax] + step >= 0) & (ijk[ax] + step < shape[ax])
            nb = flat[ok] + step * strides[ax]
            area[ok] += tf[nb] * face[ax]
    return area


def _six_dilate(m):
    return ndi.binary_dilation(m, structure=ndi.generate_binary_structure(3, 1))


def detach_cbd(am, cbd, spacing, *, relative_contact_loss: float, seed: int = 0, free=None,
               progress=None):
    """Detach CBD from the active material over a requested share of their contact area.

    CBD voxels touching active material turn into pore (a gap opens between binder and particle,
    as on cycling to high voltage) in patches of about :data:`PATCH_RADIUS_UM` grown around
    random points of the contact; as many voxels are added back on the CBD's far side (free
    voxels face-adjacent to the CBD that touch no active material, nearest to the detached
    patches first), so the CBD volume is unchanged and the contact does not come back.

    Parameters
    ----------
    am : (nz, ny, nx) bool array
        Active material ``[z, y, x]``.
    cbd : (nz, ny, nx) bool array
        Carbon-binder domain.
    spacing : float or (3,) floats, um
        Voxel size (dz, dy, dx).
    relative_contact_loss : float, 0..1
        Requested relative loss of the am-CBD contact area (0.20 = -20 %), measured by
        :func:`contact_area_faces`; met to within one voxel's faces.
    seed : int
        Deterministic patch placement.
    free : (nz, ny, nx) bool array, optional
        Voxels that may receive CBD (default: ``~am & ~cbd``, i.e. pore; pass the pore mask when
        the volume holds cracks, separator or collector).
    progress : callable, optional
        ``progress(fraction, message)``.

    Returns
    -------
    new_cbd : (nz, ny, nx) bool array
        The CBD after detachment.
    report : dict
        ``contact_area_before_um2``, ``contact_area_after_um2``,
        ``relative_contact_loss_requested``, ``relative_contact_loss_achieved`` (``1 - after /
        before``), ``relative_contact_change`` (``after / before - 1``), ``cbd_voxels_before``,
        ``cbd_voxels_after``, ``cbd_volume_before_um3``, ``cbd_volume_after_um3``,
        ``removed_voxels``, ``added_voxels``, ``patches``.

    Raises
    ------
    BadInput
        Masks that are not 3D or differ in shape, or ``relative_contact_loss`` outside [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> am = np.zeros((8, 8, 8), bool)
    >>> am[:4] = True
    >>> cbd = np.zeros_like(am)
    >>> cbd[4:6] = True                                     # a CBD film on the am slab
    >>> new, rep = detach_cbd(am, cbd, 0.5, relative_contact_loss=0.25, seed=0)
    >>> int(new.sum()) == int(cbd.sum()), round(rep["relative_contact_loss_achieved"], 2)
    (True, 0.25)
    """
    A = _mask(am, "am")
    C = _mask(cbd, "cbd")
    s = _spacing(spacing)
    if A.shape != C.shape:
        raise BadInput("cbd", f"shape {C.shape} differs from am {A.shape}", "give masks on the same grid")
    loss = float(relative_contact_loss)
    if not 0 <= loss <= 1:
        raise BadInput("relative_contact_loss", f"{relative_contact_loss} outside [0, 1]", "give e.g. 0.20")
    if free is None:
        F = ~A & ~C
    else:
        F = _mask(free, "free") & ~A & ~C
    vox = float(np.prod(s))
    a0 = contact_area_faces(A, C, s)
    n_cbd = int(C.sum())
    new = C.copy()
    rep = {"contact_area_before_um2": a0, "relative_contact_loss_requested": loss,
           "cbd_voxels_before": n_cbd, "cbd_volume_before_um3": n_cbd * vox, "removed_voxels": 0,
           "added_voxels": 0, "patches": 0,
           "contact_area_estimator": "voxel face count weighted by face area (relative changes only)"}
    report(progress, 0.05, "contact")
    if loss > 0 and a0 > 0:
        flat = np.flatnonzero(C)
        area = _face_neighbours(flat, C.shape, A, s)
        touch = area > 0
        flat, area = flat[touch], area[touch]
        pts = np.stack(np.unravel_index(flat, C.shape), 1) * s
        # patch centres: as many as discs of PATCH_RADIUS_UM needed to cover the loss
        rng = _rng(seed, 0x64)
        n_patch = int(min(len(flat), max(1, math.ceil(loss * a0 / (math.pi * PATCH_RADIUS_UM ** 2)))))
        centres = pts[rng.choice(len(flat), n_patch, replace=False)]
        dist = cKDTree(centres).query(pts, k=1, workers=-1)[0]
        order = np.lexsort((rng.random(len(flat)), dist))
        cum = np.cumsum(area[order])
        goal = loss * a0
        j = int(np.searchsorted(cum, goal))  # cum[j-1] < goal <= cum[j]
        if j >= len(cum):
            n_rm = len(cum)
        else:
            below = cum[j - 1] if j > 0 else 0.0
            n_rm = j if goal - below <= cum[j] - goal else j + 1
        removed = flat[order[:n_rm]]
        new.reshape(-1)[removed] = False
        report(progress, 0.4, "refill")
        # add the volume back on the CBD's far side: free voxels next to the CBD, not touching
        # the active material, not in the gap just opened
        gap = np.zeros(C.size, bool)
        gap[removed] = True
        gap = gap.reshape(C.shape)
        allowed = F & ~_six_dilate(A) & ~gap
        rm_tree = cKDTree(np.stack(np.unravel_index(removed, C.shape), 1) * s) if n_rm else None
        need = n_rm
        added = 0
        for _ in range(64):
            if need <= 0 or rm_tree is None:
                break
            cand = np.flatnonzero((_six_dilate(new) & allowed & ~new).reshape(-1))
            if len(cand) == 0:
                break
            d = rm_tree.query(np.stack(np.unravel_index(cand, C.shape), 1) * s, k=1, workers=-1)[0]
            take = cand[np.lexsort((cand, d))[:need]]
            new.reshape(-1)[take] = True
            need -= len(take)
            added += len(take)
        rep.update(removed_voxels=int(n_rm), added_voxels=int(added), patches=n_patch)
    a1 = contact_area_faces(A, new, s)
    n_new = int(new.sum())
    rep.update(contact_area_after_um2=a1,
               relative_contact_loss_achieved=(1 - a1 / a0) if a0 else 0.0,
               relative_contact_change=(a1 / a0 - 1) if a0 else 0.0,
               cbd_voxels_after=n_new, cbd_volume_after_um3=n_new * vox)
    report(progress, 1.0, "done")
    return new, rep
