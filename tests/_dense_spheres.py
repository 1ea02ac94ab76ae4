"""A dense polydisperse sphere packing for the phantom tests (cracks, CBD): an input built
independently of the project's own packing module, so those tests do not depend on it."""

import numpy as np
from scipy.spatial import cKDTree


def dense_spheres(shape, spacing, *, seed=0, r_mean_um=4.0, fraction=0.62, overlap=0.1, sweeps=400):
    """Polydisperse spheres pushed apart in a periodic box until overlaps are at most `overlap`
    of the radius sum, rasterised (nearest scaled surface wins); periodic images that enter the
    grid are particles of their own (their own id, centre and radius), as cut particles are.

    Returns (particles int32 [z, y, x], centres (N, 3) um, radii (N,) um).
    """
    rng = np.random.default_rng(seed)
    s = np.asarray(spacing, float)
    box = np.asarray(shape) * s
    r = r_mean_um * np.exp(0.2 * rng.standard_normal(200_000))
    n = int(np.searchsorted(np.cumsum(4 / 3 * np.pi * r ** 3), fraction * np.prod(box) * 1.04))
    r = r[:n]
    c = rng.random((n, 3)) * box
    for _ in range(sweeps):
        pairs = cKDTree(c, boxsize=box).query_pairs(2 * r.max(), output_type="ndarray")
        i, j = pairs[:, 0], pairs[:, 1]
        dv = c[j] - c[i]
        dv -= box * np.round(dv / box)
        d = np.sqrt((dv ** 2).sum(1))
        gap = (1 - overlap) * (r[i] + r[j]) - d
        m = gap > 1e-6
        if not m.any():
            break
        push = (0.5 * gap[m] / np.maximum(d[m], 1e-9))[:, None] * dv[m]
        disp = np.zeros_like(c)
        np.add.at(disp, i[m], -push)
        np.add.at(disp, j[m], push)
        c = (c + disp) % box
    P = np.zeros(shape, np.int32)
    best = np.full(shape, np.inf, np.float32)
    centres, radii = [], []
    shifts = np.array(np.meshgrid(*[[-1, 0, 1]] * 3, indexing="ij")).reshape(3, -1).T
    for ck, rk in zip(c, r, strict=True):
        for sh in shifts:
            cc = ck + sh * box
            lo = np.maximum(np.floor((cc - rk) / s).astype(int), 0)
            hi = np.minimum(np.ceil((cc + rk) / s).astype(int) + 1, shape)
            if np.any(hi <= lo):
                continue
            g = np.ogrid[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]]
            q = ((g[0] * s[0] - cc[0]) ** 2 + (g[1] * s[1] - cc[1]) ** 2 + (g[2] * s[2] - cc[2]) ** 2) / rk ** 2
            sl = tuple(slice(a, b) for a, b in zip(lo, hi, strict=True))
            mm = (q <= 1) & (q < best[sl])
            if not mm.any():
                continue
            centres.append(cc)
            radii.append(rk)
            best[sl][mm] = q[mm]
            P[sl][mm] = len(radii)
    return P, np.array(centres), np.array(radii)
