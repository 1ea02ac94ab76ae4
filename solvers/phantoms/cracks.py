"""Intergranular cracks inside secondary particles, and their growth on cycling.

NMC secondary particles are aggregates of primary grains; calendering and cycling open the
grain boundaries, starting near the particle centre (largest stresses) and running outward,
branching from boundary to boundary (the study's Fig. 2: ~4 % cracks in the pristine
electrode, +9 % / +24 % relative crack volume after cycling).  This module builds such cracks
on a voxel grid with known truth.

Geometry (units and conventions)
--------------------------------
Arrays are indexed ``[z, y, x]``; ``spacing`` is the voxel size in micrometres in the same
order, anisotropic allowed.  Voxel ``(k, j, i)`` has its centre at ``(k*dz, j*dy, i*dx)`` um,
as in :mod:`electrovox.solvers.phantoms.packing`.  Geometry is done in micrometres, so grains
are isotropic whatever the voxel shape.

Minimum width.  A crack is at least ``min_width_vox`` voxels of the *coarsest* axis wide in
every direction: the crack width is ``w = min_width_vox * max(spacing)`` um, and every crack
voxel lies in a box of ``ceil(w / spacing[i])`` voxels along each axis i that is crack
throughout (the set is a dilation by that box, hence unchanged by an opening with it).  With
PFIB voxels (0.1, 0.0152, 0.0152) and ``min_width_vox=2`` that is 0.2 um: 2 slices and 14
pixels, i.e. a crack the imaging resolves along every axis.

Algorithm
---------
1. Grains: a jittered cubic lattice of seeds (one uniform random seed per cell of edge
   ``grain_size_um``) over the whole grid; grains are the Voronoi cells of the seeds, cut by
   the particle surfaces.  The seeds depend only on (shape, spacing, grain size, seed), so
   :func:`grow_cracks` finds the same grain boundaries as :func:`crack_particles`.
2. Boundary sheets: a particle voxel is on a grain boundary when its distance to the bisector
   plane of its two nearest seeds is below half a digital-plane thickness (a gap-free
   one-voxel-thick sheet; nearest seeds from a k-d tree, z-slab by z-slab).
3. Crack front times: each (particle, boundary facet) is a node of a graph whose edges join
   facets meeting along a grain edge (facets ``a|b`` and ``a|c`` with ``a, b, c`` a Delaunay
   triangle of the seeds).  A facet's resistance is a random log-normal factor times
   ``0.35 + |n . r|`` (n the facet normal, r the radial direction: boundaries lying along the
   radius open first, as in the radial cracks of NMC).  Dijkstra from the facets passing
   within half a grain of the particle centre (the nearest ones if none) gives each facet its
   arrival time (path length between facet centroids times resistance); inside a facet the
   crack then advances outward, so a voxel's time is ``t_facet + (r - r_facet_min) *
   resistance``, r its distance to the centre.
4. Width: the time field is eroded (minimum filter) by the width box, so thresholding it gives
   the boundary sheets dilated by the box (step "Minimum width" above).
5. Volume: each particle gets a crack volume ``~ voxels * R / mean(R) * lognormal(0.35)``
   (bigger particles crack more), capped by what its boundaries can hold (the remainder goes
   to the others); each particle takes its earliest voxels, stopping between the voxel groups
   of one dilated boundary voxel (error diffusion over the particles, so that no sub-width
   stub is left).  The total is exact to the voxel.
6. Enclosure: cracks are kept within ``0.8 R`` of the centre and at least ``w/2`` (one voxel at
   least) away from the pore, so they do not reach the particle surface, except in a random
   ``open_fraction`` of the particles, whose cracks may run up to the surface.

Growth on cycling (:func:`grow_cracks`) reuses 1-5 with the existing cracks as the source:
facets already cracked start at time 0, a voxel's time is ``t_facet + (d - d_facet_min) *
resistance`` with ``d`` its distance to the existing crack, so cracks lengthen and branch
outward along the same grain boundaries (the same grains with the same ``grain_seed``); no
radius limit applies (cycled cracks may open to the pore), only the particle's own voxels.
Each cracked particle grows by ``~ its crack volume * lognormal(0.25)``.

Costs: a k-d tree query per candidate voxel (0.3-0.6 us on 2 cores) dominates: on 2 cores a
512^3 electrode at 0.5 um (12 500 particles) takes about 1 min to crack and 1.5 min to grow,
with a few GB of memory (arrays over the boundary voxels plus z-slabs of the volume).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage as ndi
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import Delaunay, cKDTree

from electrovox.errors import BadInput
from electrovox.progress import report
from electrovox.solvers.phantoms._common import rng as _rng
from electrovox.solvers.phantoms._common import spacing3 as _spacing

#: Cracks of closed particles stay within this share of the particle radius from the centre.
ENCLOSED_RADIUS = 0.8
#: Physical primary-grain size floor (um); NMC811 primary grains are 0.3-1 um.
GRAIN_SIZE_FLOOR_UM = 0.75
#: Grains at least this many crack widths across: a boundary network of cracks w wide in
#: grains of 5 w leaves room for crack fractions of tens of per cent of a particle.
GRAIN_PER_WIDTH = 5.0
#: Log-normal spread (ln units) of facet resistance and of per-particle crack shares.
FACET_SIGMA = 0.5
PARTICLE_SIGMA = 0.35
GROWTH_SIGMA = 0.25
#: Voxels per z-slab in the slab loops (bounded memory on big volumes).
_SLAB_VOXELS = 4_000_000


# ----------------------------------------------------------------------------------------------
# small helpers


def crack_width_um(spacing, min_width_vox: int = 2) -> float:
    """Crack width w: ``min_width_vox`` voxels of the coarsest axis.

    Parameters
    ----------
    spacing : float or (3,) floats, um
        Voxel size (dz, dy, dx).
    min_width_vox : int
        Width in voxels of the coarsest axis.

    Returns
    -------
    float
        The width in um.

    Examples
    --------
    >>> crack_width_um((0.2, 0.1, 0.1))
    0.4
    """
    return float(min_width_vox) * float(np.max(_spacing(spacing)))


def width_box(spacing, min_width_vox: int = 2) -> tuple[int, int, int]:
    """Voxels per axis (z, y, x) of the width box: ``ceil(w / spacing[i])``, at least 1.

    Parameters
    ----------
    spacing : float or (3,) floats, um
        Voxel size (dz, dy, dx).
    min_width_vox : int
        Crack width in voxels of the coarsest axis (see :func:`crack_width_um`).

    Returns
    -------
    (int, int, int)
        Voxels along z, y, x.

    Examples
    --------
    >>> width_box((0.2, 0.1, 0.1))
    (2, 4, 4)
    """
    s = _spacing(spacing)
    w = crack_width_um(s, min_width_vox)
    return tuple(max(1, int(math.ceil(w / si - 1e-9))) for si in s)


def default_grain_size_um(spacing, min_width_vox: int = 2) -> float:
    """Primary-grain size: ``max(0.75, 5 w)`` (physical floor, or room for w-wide cracks).

    Parameters
    ----------
    spacing : float or (3,) floats, um
        Voxel size (dz, dy, dx).
    min_width_vox : int
        Crack width in voxels of the coarsest axis (see :func:`crack_width_um`).

    Returns
    -------
    float
        The grain size in um.

    Examples
    --------
    >>> default_grain_size_um(0.5)
    5.0
    """
    return max(GRAIN_SIZE_FLOOR_UM, GRAIN_PER_WIDTH * crack_width_um(spacing, min_width_vox))


def grain_seeds(shape, spacing, grain_size_um: float, seed: int = 0) -> np.ndarray:
    """Seeds of the primary grains: one uniform random point per cubic cell of ``grain_size_um``.

    Covers the grid plus one cell on every side (so that grains at the faces are complete).

    Parameters
    ----------
    shape : (3,) ints
        Grid size (nz, ny, nx) in voxels.
    spacing : float or (3,) floats, um
        Voxel size (dz, dy, dx).
    grain_size_um : float, um
        Primary-grain size (the cell edge), > 0.
    seed : int
        The seeds are deterministic from (shape, spacing, grain size, seed).

    Returns
    -------
    (M, 3) float64 array
        Seed positions (z, y, x) in um, voxel (k, j, i) centred at (k dz, j dy, i dx).

    Raises
    ------
    BadInput
        A grain size that is not a positive number.

    Examples
    --------
    >>> grain_seeds((4, 4, 4), 0.5, 1.0, seed=0).shape     # (2 + 2)^3 cells
    (64, 3)
    """
    s = _spacing(spacing)
    d = float(grain_size_um)
    if not (d > 0 and np.isfinite(d)):
        raise BadInput("grain_size_um", f"grain size {grain_size_um} is not a positive number",
                       "give the primary-grain size in micrometres, e.g. 1.0")
    lo = -0.5 * s - d
    n = [int(math.ceil((shape[i] * s[i] + 2 * d) / d)) for i in range(3)]
    cells = np.stack(np.meshgrid(*[np.arange(k, dtype=float) for k in n], indexing="ij"), -1).reshape(-1, 3)
    jitter = _rng(seed, 0x67).random(cells.shape)
    return lo + (cells + jitter) * d


def _check_particles(particles, centres_um, radii_um):
    """Validate the particle map and geometry; return (P int32, centres (N+1,3), radii (N+1,))."""
    P = np.asarray(particles)
    if P.ndim != 3 or P.dtype.kind not in "iu":
        raise BadInput("particles", f"particle map of dtype {P.dtype} and {P.ndim} dimensions",
                       "give an integer id map [z, y, x] (0 = pore, 1..N particle ids)")
    if P.size and P.min() < 0:
        raise BadInput("particles", "negative particle ids", "use 0 for pore and 1..N for particles")
    n = int(P.max()) if P.size else 0
    C = R = None
    if centres_um is not None:
        C = np.asarray(centres_um, dtype=float).reshape(-1, 3)
        if len(C) < n:
            raise BadInput("centres_um", f"{len(C)} centres for particle ids up to {n}",
                           "give one (z, y, x) centre per particle, row i-1 for id i")
        C = np.vstack([np.zeros((1, 3)), C[:n]])
    if radii_um is not None:
        R = np.asarray(radii_um, dtype=float).reshape(-1)
        if len(R) < n or (n and not np.all(R[:n] > 0)):
            raise BadInput("radii_um", f"{len(R)} radii for particle ids up to {n}, or a radius <= 0",
                           "give one positive radius per particle, entry i-1 for id i")
        R = np.concatenate([[0.0], R[:n]])
    return P.astype(np.int32, copy=False), C, R


def _allocate(total: int, weights: np.ndarray, caps: np.ndarray) -> np.ndarray:
    """Integers k <= caps with sum == min(total, sum caps), proportional to weights elsewhere."""
    weights = np.where(caps > 0, np.maximum(weights, 0.0), 0.0).astype(float)
    caps = caps.astype(np.int64)
    k = np.zeros(len(caps), np.int64)
    total = int(min(total, caps.sum()))
    if total <= 0:
        return k
    free = caps > 0
    if weights[free].sum() <= 0:
        weights = free.astype(float)
    # water filling: particles whose share exceeds their capacity take it all, the rest
    # share what is left in proportion to their weights
    for _ in range(len(caps) + 1):
        left = total - k[~free].sum()
        share = np.zeros(len(caps))
        wsum = weights[free].sum()
        share[free] = left * weights[free] / wsum
        over = free & (share >= caps)
        if not over.any():
            base = np.floor(share).astype(np.int64)
            k[free] = base[free]
            rest = total - k.sum()
            if rest > 0:  # largest remainders, among those below capacity
                frac = np.where(free & (k < caps), share - base, -1.0)
                k[np.argsort(-frac, kind="stable")[:rest]] += 1
            return k
        k[over] = caps[over]
        free &= ~over
    return k


def _slabs(nz: int, plane: int, halo: int):
    """Slabs: z ranges [z0, z1) of about _SLAB_VOXELS voxels, with halo-extended ranges [h0, h1)."""
    step = max(1, _SLAB_VOXELS // max(plane, 1))
    for z0 in range(0, nz, step):
        z1 = min(nz, z0 + step)
        yield z0, z1, max(0, z0 - halo), min(nz, z1 + halo)


# ----------------------------------------------------------------------------------------------
# boundary sheets


def _boundary_voxels(P, s, seeds, tree, *, allowed, strict, rlim, centres, box, margin, progress, p0, p1):
    """Grain-boundary sheet voxels of the allowed particles (step 2 of the module docstring).

    A voxel qualifies when its particle is ``allowed``, it lies within ``rlim[pid]`` um of
    ``centres[pid]`` (if centres are given) and the box around it that the width dilation will
    cover (plus ``margin`` voxels each side for ``strict`` particles, which must stay off the
    pore) holds only its own particle (strict) or its own particle and pore (not strict).

    Returns (flat index int64, pid int32, nearest seed a int32, second seed b int32, r float32
    distance to the particle centre in um, or 0 without centres), flat indices ascending.
    """
    nz, ny, nx = P.shape
    half = np.array([b // 2 for b in box])
    size_open = tuple(int(2 * h + 1) for h in half)
    size_strict = tuple(int(2 * (h + m) + 1) for h, m in zip(half, margin, strict=True))
    halo = max(size_strict[0], size_open[0]) // 2 + 1
    need_open = bool(np.any(allowed & ~strict))
    need_strict = bool(np.any(allowed & strict))
    big = np.iinfo(np.int32).max
    plane = ny * nx
    thin = min(box) >= 2  # a naive digital plane suffices when the dilation closes its 6-gaps
    hmax = 0.5 * (s.max() if thin else s.sum())
    out = [[] for _ in range(5)]
    slabs = list(_slabs(nz, plane, halo))
    for i, (z0, z1, h0, h1) in enumerate(slabs):
        Pz = P[h0:h1]
        ok = np.zeros(Pz.shape, bool)
        if need_strict:
            mn = ndi.minimum_filter(Pz, size=size_strict, mode="nearest")
            mx = ndi.maximum_filter(Pz, size=size_strict, mode="nearest")
            ok |= (mn == Pz) & (mx == Pz) & strict[Pz]
            del mn, mx
        if need_open:
            mn = ndi.minimum_filter(np.where(Pz == 0, big, Pz), size=size_open, mode="nearest")
            mx = ndi.maximum_filter(Pz, size=size_open, mode="nearest")
            ok |= (mn == Pz) & (mx == Pz) & ~strict[Pz]
            del mn, mx
        ok &= allowed[Pz]
        ok = ok[z0 - h0:z1 - h0]
        iz, iy, ix = np.nonzero(ok)
        pid = P[z0:z1][iz, iy, ix]
        pts = np.empty((len(iz), 3))
        pts[:, 0] = (iz + z0) * s[0]
        pts[:, 1] = iy * s[1]
        pts[:, 2] = ix * s[2]
        if centres is not None:
            r = np.sqrt(((pts - centres[pid]) ** 2).sum(1))
            keep = r <= rlim[pid]
            pts, pid, r = pts[keep], pid[keep], r[keep]
            iz, iy, ix = iz[keep], iy[keep], ix[keep]
        else:
            r = np.zeros(len(pid))
        if len(pid):
            dist, nn = tree.query(pts, k=2, workers=-1)
            # the bisector distance (d1^2 - d0^2) / 2L is at least (d1 - d0) / 2 (L <= d0 + d1):
            # a cheap pre-selection before the exact test
            pre = np.flatnonzero(dist[:, 1] - dist[:, 0] < 2 * hmax)
            dist, nn = dist[pre], nn[pre]
            sa, sb = seeds[nn[:, 0]], seeds[nn[:, 1]]
            diff = sb - sa
            L = np.sqrt((diff ** 2).sum(1))
            delta = (dist[:, 1] ** 2 - dist[:, 0] ** 2) / (2 * L)  # distance to the bisector plane
            ns = np.abs(diff / L[:, None]) * s
            h = 0.5 * (ns.max(1) if thin else ns.sum(1))  # half thickness of a digital plane
            core = pre[delta < h]
            nn = nn[delta < h]
            a = nn.min(1).astype(np.int32)
            b = nn.max(1).astype(np.int32)
            flat = ((iz[core] + z0).astype(np.int64) * ny + iy[core]) * nx + ix[core]
            for lst, v in zip(out, (flat, pid[core].astype(np.int32), a, b, r[core].astype(np.float32)),
                              strict=True):
                lst.append(v)
        report(progress, p0 + (p1 - p0) * (i + 1) / len(slabs), "grain boundaries")
    dtypes = (np.int64, np.int32, np.int32, np.int32, np.float32)
    return tuple(np.concatenate(v) if v else np.zeros(0, dt) for v, dt in zip(out, dtypes, strict=True))


class _Nodes:
    """(particle, facet) nodes of the boundary voxels and the facet graph between them."""

    def __init__(self, flat, pid, a, b, seeds, shape, s):
        ns = len(seeds)
        fkey = a.astype(np.int64) * ns + b
        self.fkeys, finv = np.unique(fkey, return_inverse=True)
        finv = finv.reshape(-1)
        F = len(self.fkeys)
        self.F = F
        nkey = pid.astype(np.int64) * F + finv
        self.order = np.argsort(nkey, kind="stable")
        sk = nkey[self.order]
        starts = np.flatnonzero(np.r_[True, sk[1:] != sk[:-1]])
        self.starts = starts
        self.keys = sk[starts]
        self.n = len(self.keys)
        inv = np.empty(len(nkey), np.int64)
        inv[self.order] = np.repeat(np.arange(self.n), np.diff(np.r_[starts, len(sk)]))
        self.inv = inv                                   # node of each voxel
        self.pid = (self.keys // F).astype(np.int32)
        self.facet = (self.keys % F).astype(np.int64)
        self.count = np.bincount(inv, minlength=self.n)
        nyx = shape[1] * shape[2]
        coords = ((flat // nyx) * s[0], ((flat // shape[2]) % shape[1]) * s[1], (flat % shape[2]) * s[2])
        self.centroid = np.stack([np.bincount(inv, weights=c, minlength=self.n) for c in coords], 1)
        self.centroid /= self.count[:, None]
        fa, fb = self.fkeys // ns, self.fkeys % ns
        diff = seeds[fb] - seeds[fa]
        self.normal = (diff / np.sqrt((diff ** 2).sum(1))[:, None])[self.facet]
        self._fa, self._fb, self._ns = fa, fb, ns

    def reduce(self, values, how):
        """Per-node min or max of a per-voxel array."""
        f = np.minimum if how == "min" else np.maximum
        return f.reduceat(np.asarray(values)[self.order], self.starts)

    def edges(self, seeds):
        """Directed node pairs (i, j), both directions, for facets of one particle sharing a grain edge."""
        used = np.unique(np.r_[self._fa, self._fb])
        if len(used) < 4:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        pts = seeds[used]
        try:
            tets = used[Delaunay(pts).simplices]
        except Exception:  # degenerate (coplanar) seeds: no facet graph, sources only
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        pairs = []
        ns = self._ns
        for tri in ((0, 1, 2), (0, 1, 3), (0, 2, 3), (1, 2, 3)):
            t = np.sort(tets[:, tri], axis=1)
            e01 = t[:, 0] * ns + t[:, 1]
            e02 = t[:, 0] * ns + t[:, 2]
            e12 = t[:, 1] * ns + t[:, 2]
            pairs += [(e01, e02), (e01, e12), (e02, e12)]
        e1 = np.concatenate([p[0] for p in pairs])
        e2 = np.concatenate([p[1] for p in pairs])
        f1 = np.searchsorted(self.fkeys, e1).clip(0, self.F - 1)
        f2 = np.searchsorted(self.fkeys, e2).clip(0, self.F - 1)
        ok = (self.fkeys[f1] == e1) & (self.fkeys[f2] == e2)
        f1, f2 = f1[ok], f2[ok]
        fp = np.unique(np.minimum(f1, f2) * self.F + np.maximum(f1, f2))
        f1, f2 = fp // self.F, fp % self.F
        f1, f2 = np.r_[f1, f2], np.r_[f2, f1]
        # expand each facet pair over the nodes (particles) of the first facet; keep pairs whose
        # second facet exists in the same particle
        byf = np.argsort(self.facet, kind="stable")
        cnt = np.bincount(self.facet, minlength=self.F)
        start = np.r_[0, np.cumsum(cnt)[:-1]]
        rep = cnt[f1]
        tot = int(rep.sum())
        if tot == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        ramp = np.arange(tot) - np.repeat(np.cumsum(rep) - rep, rep)
        n1 = byf[np.repeat(start[f1], rep) + ramp]
        key2 = self.pid[n1].astype(np.int64) * self.F + np.repeat(f2, rep)
        j = np.searchsorted(self.keys, key2).clip(0, self.n - 1)
        ok = self.keys[j] == key2
        return n1[ok], j[ok]


def _arrival_times(nodes, seeds, resist, src_nodes, src_cost):
    """Dijkstra arrival time per node from a virtual source joined to src_nodes at src_cost."""
    i, j = nodes.edges(seeds)
    w = np.sqrt(((nodes.centroid[i] - nodes.centroid[j]) ** 2).sum(1)) * resist[j]
    v = nodes.n
    rows = np.r_[i, np.full(len(src_nodes), v)]
    cols = np.r_[j, src_nodes]
    # tiny offset: explicit zeros in a sparse matrix are not edges for csgraph
    vals = np.r_[w, src_cost] + 1e-9
    g = csr_matrix((vals, (rows, cols)), shape=(v + 1, v + 1))
    g.sum_duplicates()
    t = dijkstra(g, directed=True, indices=v)
    return t[:v]


def _resistance(nodes, centres, rng):
    """Facet resistance per node: lognormal * (0.35 + |n . r_hat|), radial facets weakest."""
    rad = nodes.centroid - centres[nodes.pid]
    rn = np.sqrt((rad ** 2).sum(1))
    rhat = rad / np.where(rn > 0, rn, 1.0)[:, None]
    align = np.abs((nodes.normal * rhat).sum(1))
    return np.exp(FACET_SIGMA * rng.standard_normal(nodes.n)) * (0.35 + align)


def _untie(times, s, rng):
    """Arrival times as float32 with a tiny random offset (1e-3 of the finest voxel).

    Grid distances tie often, and a tie group split by the volume target would leave sub-width
    stubs; after this only the voxels of one dilated boundary voxel share a time.
    """
    scale = np.float32(1e-3 * float(np.min(s)))
    with np.errstate(invalid="ignore"):
        return times.astype(np.float32) + scale * rng.random(len(times), dtype=np.float32)


def _dilated_candidates(shape, flat, times, P, box, exclude=None, progress=None, p0=0.0, p1=1.0):
    """Erode the voxel time field by the width box; return (flat, pid, time) of particle voxels.

    ``flat`` must be ascending.  Voxels in ``exclude`` (bool volume) are left out.
    """
    nz, ny, nx = shape
    plane = ny * nx
    halo = box[0]
    out = [[], [], []]
    slabs = list(_slabs(nz, plane, halo))
    for k, (z0, z1, h0, h1) in enumerate(slabs):
        lo, hi = np.searchsorted(flat, [h0 * plane, h1 * plane])
        if hi == lo:
            continue
        T = np.full((h1 - h0) * plane, np.inf, np.float32)
        T[flat[lo:hi] - h0 * plane] = times[lo:hi]
        T = ndi.minimum_filter(T.reshape(h1 - h0, ny, nx), size=box, mode="constant", cval=np.inf)
        T = T[z0 - h0:z1 - h0]
        Pz = P[z0:z1]
        ok = np.isfinite(T) & (Pz > 0)
        if exclude is not None:
            ok &= ~exclude[z0:z1]
        idx = np.flatnonzero(ok)
        out[0].append(idx + z0 * plane)
        out[1].append(Pz.reshape(-1)[idx])
        out[2].append(T.reshape(-1)[idx])
        report(progress, p0 + (p1 - p0) * (k + 1) / len(slabs), "crack width")
    dt = (np.int64, np.int32, np.float32)
    return tuple(np.concatenate(v) if v else np.zeros(0, d) for v, d in zip(out, dt, strict=True))


def _select(flat, pid, times, k_per_pid, max_group):
    """About the k_per_pid[p] earliest candidates of each particle p, exactly sum(k) in all.

    Voxels of equal time mostly come from one boundary voxel dilated by the width box; cutting
    such a group would leave a stub thinner than the width.  So each particle stops at a group
    boundary (the one that keeps the running surplus over the particles closest to zero, error
    diffusion) unless that is more than ``max_group`` voxels away (a large tie, e.g. the
    time-0 filling next to existing cracks), and the last particle absorbs the remaining few.
    """
    if len(flat) == 0:
        return flat
    # sort by (pid, time): a non-negative float32's bit pattern orders like its value
    key = (pid.astype(np.int64) << 32) | np.maximum(times, 0).view(np.uint32).astype(np.int64)
    order = np.argsort(key, kind="stable")
    ks = key[order]
    ps = pid[order]
    n = len(k_per_pid)
    first = np.searchsorted(ps, np.arange(n + 1))
    cuts = np.flatnonzero(np.r_[True, ks[1:] != ks[:-1], True])  # group boundaries (positions)
    stop = first[:-1].copy()
    err = 0
    last = -1
    for p in np.flatnonzero(k_per_pid > 0):
        a, b = first[p], first[p + 1]
        q = a + min(max(int(k_per_pid[p]) - err, 0), b - a)
        j = np.searchsorted(cuts, q)
        hi = cuts[min(j, len(cuts) - 1)]
        lo = cuts[j - 1] if cuts[j] != q else q
        c = lo if (q - lo) <= (hi - q) else hi
        if abs(c - q) > max_group:
            c = q
        c = min(max(c, a), b)
        stop[p] = c
        err += (c - a) - int(k_per_pid[p])
        last = p
    if last >= 0 and err != 0:  # settle the last few voxels in the last particle
        stop[last] = min(max(stop[last] - err, first[last]), first[last + 1])
    rank = np.arange(len(ps))
    return flat[order[rank < stop[ps]]]


# ----------------------------------------------------------------------------------------------
# public API


def crack_particles(particles, centres_um, radii_um, spacing, *, target_fraction: float,
                    min_width_vox: int = 2, seed: int = 0, grain_size_um: float | None = None,
                    open_fraction: float = 0.1, progress=None) -> np.ndarray:
    """Intergranular cracks inside the particles of an id map.

    Parameters
    ----------
    particles : (nz, ny, nx) int array
        ``[z, y, x]``, 0 = pore, 1..N particle ids (overlaps resolved, particles may be cut by the
        faces).
    centres_um : (N, 3) float array, um
        Particle centres (z, y, x), row i-1 for particle i (may lie outside the grid).
    radii_um : (N,) float array, um
        Particle radii (volume-equivalent).
    spacing : float or (3,) floats, um
        Voxel size (dz, dy, dx).
    target_fraction : float
        Crack volume as a fraction of the whole grid (e.g. 0.04); met to the voxel.
    min_width_vox : int
        Crack width in voxels of the coarsest axis (see the module docstring).
    seed : int
        Everything is deterministic from it; the grains come from ``grain_seeds(..., seed)``.
    grain_size_um : float, um, optional
        Primary-grain size; default :func:`default_grain_size_um`.
    open_fraction : float, 0..1
        Share of particles whose cracks may reach the particle surface; the others' cracks stay
        within 0.8 R of the centre and off the pore.
    progress : callable, optional
        ``progress(fraction, message)``.

    Returns
    -------
    (nz, ny, nx) bool array
        Crack voxels, a subset of ``particles > 0``; each crack voxel belongs to the particle whose
        grain boundaries it follows.

    Raises
    ------
    BadInput
        Inconsistent particle map and geometry, or particles that cannot hold the requested crack
        volume.

    Examples
    --------
    >>> import numpy as np
    >>> from electrovox.solvers.phantoms.packing import pack_particles
    >>> pk = pack_particles((24, 24, 24), (0.25, 0.25, 0.25), 0.5, seed=0, d50_um=4.0)
    >>> crack = crack_particles(pk["particles"], pk["centres_um"], pk["radii_um"], 0.25,
    ...                         target_fraction=0.02, seed=0)
    >>> int(crack.sum()) == round(0.02 * crack.size), bool((crack & (pk["particles"] == 0)).any())
    (True, False)
    """
    s = _spacing(spacing)
    P, C, R = _check_particles(particles, centres_um, radii_um)
    if C is None or R is None:
        raise BadInput("crack_particles", "centres_um and radii_um are required", "pass the packing's geometry")
    f = float(target_fraction)
    if not 0.0 <= f < 1.0:
        raise BadInput("target_fraction", f"crack fraction {target_fraction} is outside [0, 1)",
                       "give a volume fraction such as 0.04")
    if int(min_width_vox) < 1:
        raise BadInput("min_width_vox", f"{min_width_vox} < 1", "give a width of at least one voxel")
    out = np.zeros(P.shape, bool)
    total = int(round(f * P.size))
    n = len(R) - 1
    if total == 0 or n == 0:
        report(progress, 1.0, "done")
        return out
    box = width_box(s, min_width_vox)
    w = crack_width_um(s, min_width_vox)
    d = float(grain_size_um) if grain_size_um is not None else default_grain_size_um(s, min_width_vox)
    margin = tuple(max(1, int(math.ceil(0.5 * w / si - 1e-9))) for si in s)
    report(progress, 0.0, "grains")
    seeds = grain_seeds(P.shape, s, d, seed)
    tree = cKDTree(seeds)
    rng = _rng(seed, 0x63)
    vox = np.bincount(P.reshape(-1), minlength=n + 1).astype(float)
    weights = vox * (R / R[1:].mean()) * np.exp(PARTICLE_SIGMA * rng.standard_normal(n + 1))
    weights[0] = 0.0
    open_ = rng.random(n + 1) < float(open_fraction)
    allowed = vox > 0
    allowed[0] = False

    for attempt in range(2):
        # second attempt (only if the first cannot hold the volume): every particle open, no
        # radius limit
        strict = ~open_ if attempt == 0 else np.zeros(n + 1, bool)
        rlim = np.where(strict, ENCLOSED_RADIUS * R, np.inf)
        flat, pid, a, b, r = _boundary_voxels(P, s, seeds, tree, allowed=allowed, strict=strict, rlim=rlim,
                                              centres=C, box=box, margin=margin, progress=progress,
                                              p0=0.02, p1=0.6)
        if len(flat) == 0:
            caps = np.zeros(n + 1, np.int64)
        else:
            nodes = _Nodes(flat, pid, a, b, seeds, P.shape, s)
            resist = _resistance(nodes, C, _rng(seed, 0x66, attempt))
            rmin = nodes.reduce(r, "min")
            # crack sources: the facets passing within half a grain (or closest) of the centre
            pmin = np.full(n + 1, np.inf)
            np.minimum.at(pmin, nodes.pid, rmin)
            src = np.flatnonzero(rmin <= np.maximum(pmin[nodes.pid], 0.5 * d))
            t_node = _arrival_times(nodes, seeds, resist, src, rmin[src] * resist[src])
            times = t_node[nodes.inv] + (r - rmin[nodes.inv]) * resist[nodes.inv]
            times = _untie(times, s, _rng(seed, 0x74, attempt))
            report(progress, 0.7, "crack fronts")
            cflat, cpid, ctime = _dilated_candidates(P.shape, flat, times, P, box, progress=progress,
                                                     p0=0.7, p1=0.9)
            caps = np.bincount(cpid, minlength=n + 1)
        if caps.sum() >= total:
            break
    if caps.sum() < total:
        raise BadInput("target_fraction", f"the particles hold at most {caps.sum() / P.size:.4f} of cracks "
                       f"{w:.3g} um wide, {f:.4f} requested", "lower target_fraction or min_width_vox, or use "
                       "finer voxels")
    k = _allocate(total, weights, caps)
    out.reshape(-1)[_select(cflat, cpid, ctime, k, int(np.prod(box)))] = True
    report(progress, 1.0, "done")
    return out


def _centroids(P, n):
    """Particle centroids (n+1, 3) in um from the id map (row 0 unused)."""
    nz, ny, nx = P.shape
    acc = np.zeros((n + 1, 4))
    plane = ny * nx
    for z0, z1, _, _ in _slabs(nz, plane, 0):
        Pz = P[z0:z1]
        iz, iy, ix = np.nonzero(Pz)
        p = Pz[iz, iy, ix]
        acc[:, 0] += np.bincount(p, minlength=n + 1)
        for c, v in enumerate((iz + z0, iy, ix)):
            acc[:, c + 1] += np.bincount(p, weights=v, minlength=n + 1)
    cnt = np.maximum(acc[:, 0], 1)
    return acc[:, 1:] / cnt[:, None]


def grow_cracks(particles, crack_mask, spacing, *, relative_growth: float, seed: int = 0,
                min_width_vox: int = 2, grain_seed: int | None = None, grain_size_um: float | None = None,
                centres_um=None, progress=None) -> np.ndarray:
    """Grow existing cracks along grain boundaries by a relative volume (cycling damage).

    Parameters
    ----------
    particles : (nz, ny, nx) int array
        ``[z, y, x]``, 0 = outside particles, 1..N particle ids (a single id for all solid works
        too: growth then follows grain boundaries from the existing cracks).
    crack_mask : (nz, ny, nx) bool array
        The existing cracks (inside particles).
    spacing : float or (3,) floats, um
        Voxel size (dz, dy, dx).
    relative_growth : float
        Requested relative increase of the crack volume (e.g. 0.24 for +24 %); met to the voxel:
        ``new.sum() == crack.sum() + round(relative_growth * crack.sum())``.
    seed : int
        Randomness of the growth (facet resistance, per-particle shares).
    min_width_vox : int
        Width of new crack voxels, as in :func:`crack_particles`.
    grain_seed : int, optional
        Seed of the grain structure; pass the ``seed`` given to :func:`crack_particles` (default:
        ``seed``) so that growth follows the same grain boundaries.
    grain_size_um : float, um, optional
        Grain size, as given to :func:`crack_particles` (default: the default grain size).
    centres_um : (N, 3) float array, um, optional
        Particle centres, used for the radial facet preference; default: particle centroids.
    progress : callable, optional
        ``progress(fraction, message)``.

    Returns
    -------
    (nz, ny, nx) bool array
        A superset of ``crack_mask & (particles > 0)``; new voxels lie in particles that already
        crack, in the same particle as the crack they extend.

    Raises
    ------
    BadInput
        Masks on different grids, or grain boundaries of the cracked particles that cannot hold
        the growth.

    Examples
    --------
    >>> import numpy as np
    >>> from electrovox.solvers.phantoms.packing import pack_particles
    >>> pk = pack_particles((24, 24, 24), (0.25, 0.25, 0.25), 0.5, seed=0, d50_um=4.0)
    >>> crack = crack_particles(pk["particles"], pk["centres_um"], pk["radii_um"], 0.25,
    ...                         target_fraction=0.02, seed=0)
    >>> grown = grow_cracks(pk["particles"], crack, 0.25, relative_growth=0.25, seed=0,
    ...                     centres_um=pk["centres_um"])
    >>> int(grown.sum()) == int(crack.sum()) + round(0.25 * int(crack.sum())), bool((crack & ~grown).any())
    (True, False)
    """
    s = _spacing(spacing)
    P, C, _ = _check_particles(particles, centres_um, None)
    crack = np.asarray(crack_mask, dtype=bool)
    if crack.shape != P.shape:
        raise BadInput("crack_mask", f"shape {crack.shape} differs from the particle map {P.shape}",
                       "give masks on the same grid")
    g = float(relative_growth)
    if not (g >= 0 and np.isfinite(g)):
        raise BadInput("relative_growth", f"{relative_growth} is not a non-negative number", "give e.g. 0.24")
    crack = crack & (P > 0)
    base = int(crack.sum())
    new = crack.copy()
    add = int(round(g * base))
    if add == 0:
        report(progress, 1.0, "done")
        return new
    n = int(P.max())
    box = width_box(s, min_width_vox)
    d = float(grain_size_um) if grain_size_um is not None else default_grain_size_um(s, min_width_vox)
    gseed = seed if grain_seed is None else grain_seed
    report(progress, 0.0, "grains")
    seeds = grain_seeds(P.shape, s, d, gseed)
    tree = cKDTree(seeds)
    if C is None:
        C = _centroids(P, n)
    per = np.bincount(P[crack], minlength=n + 1)
    allowed = per > 0
    allowed[0] = False
    strict = np.zeros(n + 1, bool)
    flat, pid, a, b, _ = _boundary_voxels(P, s, seeds, tree, allowed=allowed, strict=strict,
                                          rlim=np.full(n + 1, np.inf), centres=None, box=box,
                                          margin=(0, 0, 0), progress=progress, p0=0.02, p1=0.55)
    if len(flat) == 0:
        raise BadInput("crack_mask", "no grain boundaries in the cracked particles",
                       "check that the cracks lie inside the particle map")
    nodes = _Nodes(flat, pid, a, b, seeds, P.shape, s)
    rng = _rng(seed, 0x67)
    resist = _resistance(nodes, C, rng)
    in_crack = crack.reshape(-1)[flat]
    src = np.flatnonzero(nodes.reduce(in_crack.astype(np.int8), "max") > 0)
    t_node = _arrival_times(nodes, seeds, resist, src, np.zeros(len(src)))
    report(progress, 0.6, "crack fronts")

    # Distance to the existing crack, only for the nodes that can be reached before the growth
    # is used up (per particle: earliest nodes holding 4x the particle's expected share of
    # free boundary voxels); all nodes if that turns out too few.
    weights = per * np.exp(GROWTH_SIGMA * rng.standard_normal(n + 1))
    weights[0] = 0.0
    free = nodes.count - np.add.reduceat(in_crack[nodes.order].astype(np.int64), nodes.starts)
    expect = _allocate(add, weights, np.bincount(nodes.pid, weights=free, minlength=n + 1).astype(np.int64))
    order = np.lexsort((t_node, nodes.pid))
    ps = nodes.pid[order]
    cum = np.cumsum(free[order])
    pstart = np.searchsorted(ps, np.arange(n + 1))
    before = np.where(pstart > 0, cum[np.maximum(pstart - 1, 0)], 0)
    within = np.empty(nodes.n, np.int64)
    within[order] = cum - free[order] - before[ps]     # free voxels of earlier nodes, same particle
    crack_tree = cKDTree(np.stack(np.unravel_index(np.flatnonzero(crack), P.shape), 1) * s)
    for factor in (4, None):
        keep_node = np.isfinite(t_node)
        if factor is not None:
            keep_node &= within < factor * expect[nodes.pid] + 1
        keep = keep_node[nodes.inv]
        kv = np.flatnonzero(keep & ~in_crack)
        dist = np.full(len(flat), np.inf)
        dist[kv] = crack_tree.query(np.stack(np.unravel_index(flat[kv], P.shape), 1) * s, k=1, workers=-1)[0]
        dist[in_crack] = 0.0
        dmin = nodes.reduce(dist, "min")
        dmin[src] = 0.0
        with np.errstate(invalid="ignore"):  # inf - inf for the nodes left out: nan, dropped below
            times = t_node[nodes.inv] + (dist - dmin[nodes.inv]) * resist[nodes.inv]
        # boundary voxels already cracked seed nothing themselves: a new crack voxel always comes
        # with the whole width box of a new boundary voxel, so the grown crack keeps its width
        times = _untie(np.where(in_crack, np.inf, times), s, _rng(seed, 0x74))
        finite = np.isfinite(times)
        report(progress, 0.75, "crack width")
        cflat, cpid, ctime = _dilated_candidates(P.shape, flat[finite], times[finite], P, box, exclude=crack,
                                                 progress=progress, p0=0.75, p1=0.95)
        caps = np.bincount(cpid, minlength=n + 1)
        caps[~allowed] = 0
        cut = np.bincount(nodes.pid[np.isfinite(t_node) & ~keep_node], minlength=n + 1) > 0
        if caps.sum() >= add and not np.any((caps < expect) & cut):
            break
    if caps.sum() < add:
        raise BadInput("relative_growth", f"the grain boundaries near the cracks hold {caps.sum()} voxels, "
                       f"{add} requested", "lower relative_growth")
    k = _allocate(add, weights, caps)
    new.reshape(-1)[_select(cflat, cpid, ctime, k, int(np.prod(box)))] = True
    report(progress, 1.0, "done")
    return new


def grain_map(particles, spacing, *, grain_size_um: float | None = None, seed: int = 0,
              min_width_vox: int = 2, progress=None) -> np.ndarray:
    """Primary-grain ids inside the particles.

    The grains are those of :func:`crack_particles` / :func:`grow_cracks` with the same seed and
    grain size (Voronoi cells of :func:`grain_seeds`, cut by the particle map); useful for
    rendering the grain structure or for grain-contrast imaging.

    Parameters
    ----------
    particles : (nz, ny, nx) int array
        ``[z, y, x]``, 0 = outside particles.
    spacing : float or (3,) floats, um
        Voxel size (dz, dy, dx).
    grain_size_um : float, um, optional
        Grain size; default :func:`default_grain_size_um`.
    seed : int
        Seed of :func:`grain_seeds`.
    min_width_vox : int
        Crack width in voxels, for the default grain size.
    progress : callable, optional
        ``progress(fraction, message)``.

    Returns
    -------
    (nz, ny, nx) int32 array
        0 outside the particles, else the index of the nearest grain seed + 1.

    Examples
    --------
    >>> import numpy as np
    >>> g = grain_map(np.ones((4, 4, 4), np.int32), 0.5, grain_size_um=1.0, seed=0)
    >>> g.dtype, bool((g > 0).all())
    (dtype('int32'), True)
    """
    s = _spacing(spacing)
    P = np.asarray(particles)
    d = float(grain_size_um) if grain_size_um is not None else default_grain_size_um(s, min_width_vox)
    seeds = grain_seeds(P.shape, s, d, seed)
    tree = cKDTree(seeds)
    out = np.zeros(P.shape, np.int32)
    nz, ny, nx = P.shape
    slabs = list(_slabs(nz, ny * nx, 0))
    for k, (z0, z1, _, _) in enumerate(slabs):
        iz, iy, ix = np.nonzero(P[z0:z1])
        pts = np.stack([(iz + z0) * s[0], iy * s[1], ix * s[2]], 1)
        if len(pts):
            out[z0:z1][iz, iy, ix] = tree.query(pts, k=1, workers=-1)[1].astype(np.int32) + 1
        report(progress, (k + 1) / len(slabs), "grains")
    return out
