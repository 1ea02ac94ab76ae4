"""Intergranular cracks in phantom particles (electrovox.solvers.phantoms.cracks).

The particle maps are built here (a small collective-rearrangement sphere packing, ~62 % solid,
like a calendered electrode), independent of the project's packing module.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from _dense_spheres import dense_spheres
from scipy import ndimage as ndi
from scipy.stats import spearmanr

from electrovox.errors import BadInput
from electrovox.solvers.phantoms.cracks import (
    crack_particles,
    crack_width_um,
    default_grain_size_um,
    grain_map,
    grow_cracks,
    width_box,
)

SP = (0.5, 0.5, 0.5)
SHAPE = (96, 96, 96)


def touching(mask, other):
    """Voxels of mask with a face neighbour in other."""
    t = np.zeros_like(mask)
    for ax in range(3):
        lo = [slice(None)] * 3
        hi = [slice(None)] * 3
        lo[ax], hi[ax] = slice(0, -1), slice(1, None)
        t[tuple(lo)] |= other[tuple(hi)]
        t[tuple(hi)] |= other[tuple(lo)]
    return mask & t


def opened_share(mask, box, pore=None):
    """Share of a mask kept by a binary opening with a box; the grid is extended by edge
    replication first, so that the faces of the volume do not count as pore.  With ``pore``,
    the opening is of mask | pore: a crack mouth open to the pore is one dark region to the
    imaging, its width counted across both."""
    full = mask if pore is None else mask | pore
    pad = np.pad(full, [(b, b) for b in box], mode="edge")
    op = ndi.binary_opening(pad, structure=np.ones(box, bool))[tuple(slice(b, -b) for b in box)]
    return (op & mask).sum() / mask.sum()


@pytest.fixture(scope="module")
def electrode():
    P, C, R = dense_spheres(SHAPE, SP, seed=0, r_mean_um=4.0)
    crack = crack_particles(P, C, R, SP, target_fraction=0.04, seed=3)
    return P, C, R, crack


def test_cracks_in_particles_with_exact_fraction(electrode):
    P, C, R, crack = electrode
    assert crack.dtype == bool and crack.shape == P.shape
    assert not (crack & (P == 0)).any()
    # requirement: within 0.2 percentage points; the algorithm meets the count to the voxel
    assert abs(crack.mean() - 0.04) <= 0.002
    assert int(crack.sum()) == round(0.04 * P.size)


def test_crack_width_at_least_min_width(electrode):
    P, C, R, crack = electrode
    box = width_box(SP, 2)
    assert box == (2, 2, 2) and crack_width_um(SP, 2) == 1.0
    # Every crack voxel should lie in a 2x2x2 box of crack (the cracks are a dilation by it), so
    # an opening by that box keeps them; voxels are lost only where a particle's crack stops
    # mid-box to meet the exact volume (one box at most, in the last particle) and where the
    # edge-extension of the grid is not what lies outside: 1 % covers that with room.
    share = opened_share(crack, box)
    print(f"opening by {box} keeps {share:.4f} of the cracks")
    assert share >= 0.99


def test_cracks_enclosed(electrode):
    P, C, R, crack = electrode
    pore = P == 0
    share = touching(crack, pore).sum() / crack.sum()
    print(f"crack voxels touching pore: {share:.5f}")
    # 10 % of the particles (open_fraction) may crack up to the surface, and only their outer
    # crack ends touch pore: a few per cent at most (measured ~0.001 here)
    assert share <= 0.02
    closed = crack_particles(P, C, R, SP, target_fraction=0.04, seed=3, open_fraction=0.0)
    assert touching(closed, pore).sum() == 0  # none of them reaches the surface
    # cores within 0.8 R of the centre, plus at most the width box's diagonal
    iz, iy, ix = np.nonzero(closed)
    pid = P[iz, iy, ix]
    r = np.sqrt(((np.stack([iz, iy, ix], 1) * SP - C[pid - 1]) ** 2).sum(1))
    assert np.all(r <= 0.8 * R[pid - 1] + np.sqrt(3) * crack_width_um(SP, 2) + 1e-9)


def test_cracks_start_at_the_centre_and_branch(electrode):
    P, C, R, crack = electrode
    iz, iy, ix = np.nonzero(crack)
    pid = P[iz, iy, ix]
    r = np.sqrt(((np.stack([iz, iy, ix], 1) * SP - C[pid - 1]) ** 2).sum(1))
    ids = np.unique(pid)
    inner = np.full(len(R) + 1, np.inf)
    np.minimum.at(inner, pid, r)
    grain = default_grain_size_um(SP, 2)
    # the crack of a particle starts on the facets passing within half a grain of its centre
    # (the width dilation only brings it closer); particles whose centre lies outside the grid
    # are left out (their start is not in the volume)
    size = np.asarray(SHAPE) * SP
    inside = np.all((C[ids - 1] >= 0) & (C[ids - 1] <= size - np.asarray(SP)), axis=1)
    share = np.mean(inner[ids][inside] <= 0.5 * grain + 1e-9)
    print(f"{inside.sum()} cracked particles centred in the grid; crack within half a grain of the "
          f"centre in {share:.3f}")
    assert share >= 0.98
    # one connected crack per particle mostly (branching from the centre, not scattered bits)
    lab, n = ndi.label(crack)
    print(f"{n} crack components for {len(ids)} cracked particles")
    assert n <= 1.5 * len(ids)


def test_bigger_particles_crack_more(electrode):
    P, C, R, crack = electrode
    vox = np.bincount(P.reshape(-1), minlength=len(R) + 1)[1:]
    cr = np.bincount(P[crack], minlength=len(R) + 1)[1:]
    whole = vox >= 0.9 * 4 / 3 * np.pi * R ** 3 / np.prod(SP)  # not cut by the faces
    rho = spearmanr(R[whole], cr[whole] / vox[whole])[0]
    print(f"rank correlation of particle radius and crack fraction: {rho:.3f} over {whole.sum()} particles")
    # shares ~ R / mean(R) * lognormal(0.35): a clear positive trend despite the scatter
    assert rho > 0.3


@pytest.mark.parametrize("growth", [0.09, 0.24])
def test_grow_cracks(electrode, growth):
    P, C, R, crack = electrode
    new = grow_cracks(P, crack, SP, relative_growth=growth, seed=5, grain_seed=3)
    achieved = new.sum() / crack.sum() - 1
    print(f"requested +{growth:.2f}, achieved {achieved:+.5f}")
    # requirement: within 0.01 absolute; the algorithm meets the count to the voxel
    assert abs(achieved - growth) <= 1.0 / crack.sum() + 1e-12
    assert not (crack & ~new).any()           # keeps every crack voxel
    assert not (new & (P == 0)).any()         # stays inside particles
    cracked = np.unique(P[crack])
    assert np.isin(np.unique(P[new & ~crack]), cracked).all()  # grows only cracked particles
    # grown cracks may open to the pore (no enclosure on cycling): width across crack and pore
    # (a box stopping mid-way for the exact volume: a few voxels per particle at most)
    share = opened_share(new, width_box(SP, 2), pore=P == 0)
    print(f"opening keeps {share:.5f} of the grown cracks")
    assert share >= 0.995
    # growth continues the existing cracks: new voxels lie in crack components that were there
    lab, _ = ndi.label(new)
    old_labels = np.unique(lab[crack])
    attached = np.isin(lab[new & ~crack], old_labels).mean()
    print(f"new crack voxels attached to old cracks: {attached:.4f}")
    assert attached >= 0.95
    # ... and outward: new voxels lie further from their particle centre than the old ones
    def mean_r(mask):
        iz, iy, ix = np.nonzero(mask)
        pid = P[iz, iy, ix]
        return np.mean(np.sqrt(((np.stack([iz, iy, ix], 1) * SP - C[pid - 1]) ** 2).sum(1)) / R[pid - 1])
    assert mean_r(new & ~crack) > mean_r(crack)


def test_grow_cracks_without_particle_ids(electrode):
    P, C, R, crack = electrode
    one = (P > 0).astype(np.int32)  # the cycling transform's fallback: all solid one "particle"
    new = grow_cracks(one, crack, SP, relative_growth=0.24, seed=1)
    assert abs(new.sum() / crack.sum() - 1.24) <= 1.0 / crack.sum() + 1e-12
    assert not (crack & ~new).any() and not (new & (P == 0)).any()


def test_deterministic(electrode):
    P, C, R, crack = electrode
    again = crack_particles(P, C, R, SP, target_fraction=0.04, seed=3)
    assert np.array_equal(again, crack)
    other = crack_particles(P, C, R, SP, target_fraction=0.04, seed=4)
    assert other.sum() == crack.sum() and not np.array_equal(other, crack)
    g1 = grow_cracks(P, crack, SP, relative_growth=0.1, seed=7)
    g2 = grow_cracks(P, crack, SP, relative_growth=0.1, seed=7)
    assert np.array_equal(g1, g2)


def test_anisotropic_voxels():
    sp = (0.25, 0.1, 0.1)
    P, C, R = dense_spheres((48, 120, 120), sp, seed=1, r_mean_um=2.0)
    crack = crack_particles(P, C, R, sp, target_fraction=0.04, seed=0)
    assert int(crack.sum()) == round(0.04 * P.size) and not (crack & (P == 0)).any()
    # width 2 coarse voxels = 0.5 um: 2 voxels along z, 5 along y and x
    box = width_box(sp, 2)
    assert box == (2, 5, 5)
    assert opened_share(crack, box) >= 0.99
    new = grow_cracks(P, crack, sp, relative_growth=0.24, seed=0)
    assert abs(new.sum() / crack.sum() - 1.24) <= 1.0 / crack.sum() + 1e-12
    assert opened_share(new, box, pore=P == 0) >= 0.995


def test_grain_map(electrode):
    P, C, R, crack = electrode
    g = grain_map(P, SP, seed=3)
    assert g.dtype == np.int32 and g.shape == P.shape
    assert (g[P == 0] == 0).all() and (g[P > 0] > 0).all()
    # cracks run along grain boundaries: most crack voxels have a face neighbour in another grain
    # of the same particle (the rest: the inside of the 2-voxel-wide crack)
    other = np.zeros_like(crack)
    for ax in range(3):
        for step in (1, -1):
            sg, sp_ = np.roll(g, step, ax), np.roll(P, step, ax)
            other |= (sg != g) & (sp_ == P)
    share = (crack & other).sum() / crack.sum()
    print(f"crack voxels on a grain boundary: {share:.3f}")
    assert share >= 0.5


def test_bad_input(electrode):
    P, C, R, crack = electrode
    with pytest.raises(BadInput):
        crack_particles(P, C, R, SP, target_fraction=0.9)      # more than the particles hold
    with pytest.raises(BadInput):
        crack_particles(P, C[:3], R, SP, target_fraction=0.04)  # too few centres
    with pytest.raises(BadInput):
        crack_particles(P.astype(float), C, R, SP, target_fraction=0.04)
    with pytest.raises(BadInput):
        grow_cracks(P, crack, SP, relative_growth=-0.1)
    with pytest.raises(BadInput):
        grow_cracks(P, crack[:-1], SP, relative_growth=0.1)
    empty = crack_particles(P, C, R, SP, target_fraction=0.0)
    assert not empty.any()


@pytest.mark.slow
def test_timing_256():
    """256^3 at 0.5 um: ~6 s to crack, ~11 s to grow on 2 cores (512^3: ~1 and ~1.7 min)."""
    P, C, R = dense_spheres((256, 256, 256), SP, seed=2, r_mean_um=5.0)
    t = time.perf_counter()
    crack = crack_particles(P, C, R, SP, target_fraction=0.04, seed=0)
    t1 = time.perf_counter()
    new = grow_cracks(P, crack, SP, relative_growth=0.24, seed=0)
    t2 = time.perf_counter()
    print(f"256^3: crack {t1 - t:.1f} s, grow {t2 - t1:.1f} s")
    assert int(crack.sum()) == round(0.04 * P.size)
    assert abs(new.sum() / crack.sum() - 1.24) <= 1.0 / crack.sum() + 1e-12
    assert t1 - t < 60 and t2 - t1 < 90
