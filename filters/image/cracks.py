"""Cracks inside particles: dark regions enclosed by active material become label ``crack``.

A crack is empty space inside a secondary particle: enclosed by the particle, not part of the
open pore space beyond the particle's hull.  :func:`find_cracks` builds the hull of the active
material as its morphological closing with a ball of radius ``max_width_um / 2`` (in physical
units, an ellipsoid in voxels on anisotropic grids; the image is mirror-padded so particles cut
by the box faces close too) plus the holes of the active material (fully enclosed voids of any
width).  Non-active voxels inside the hull are candidates; a connected candidate region is a
crack when at least ``enclosed_fraction`` of its face neighbours outside it are active material:
a crack is walled by its particle, while the pore at a neck between two touching particles,
which the closing fills as well, opens onto the pore space around it.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from electrovox.errors import BadInput
from electrovox.filters.image.segment import AM, CRACK, ellipsoid, structure
from electrovox.progress import report


def find_cracks(labels: np.ndarray, spacing, *, max_width_um: float | None = None, enclosed_fraction: float = 0.7,
                am: int = AM, crack: int = CRACK, progress=None) -> np.ndarray:
    """Relabel the dark voxels enclosed by particles as ``crack`` (a new uint8 array).

    ``labels``: uint8 [z, y, x] with active material ``am``; ``spacing`` (z, y, x) in um;
    ``max_width_um``: widest crack whose mouth is bridged (default 4 x the coarsest voxel size,
    i.e. cracks resolved by up to four voxels; fully enclosed voids of any width are cracks
    regardless); ``enclosed_fraction``: share of a candidate's surrounding that must be active
    material.
    """
    sp = tuple(float(s) for s in spacing)
    if not 0 <= enclosed_fraction <= 1:
        raise BadInput("find_cracks", f"enclosed_fraction {enclosed_fraction} is not in 0..1", "give a fraction")
    width = 4.0 * max(sp) if max_width_um is None else float(max_width_um)
    if width < 0:
        raise BadInput("find_cracks", f"max_width_um {width} is negative", "give a width >= 0 um")
    solid = labels == am
    st = structure(labels.shape)
    report(progress, 0.1, "cracks: hull")
    hull = ndimage.binary_fill_holes(solid, structure=st)
    if width > 0:
        fp = ellipsoid(width / 2.0, sp, labels.shape)
        pad = [(q // 2, q // 2) for q in fp.shape]
        a = np.pad(solid, pad, mode="reflect")
        closed = ndimage.binary_closing(a, structure=fp)
        hull |= closed[tuple(slice(p, a.shape[i] - p) for i, (p, _) in enumerate(pad))]
    cand = hull & ~solid
    report(progress, 0.5, "cracks: enclosure")
    comp, n = ndimage.label(cand, structure=st)
    out = labels.copy()
    if n == 0:
        return out
    # the face-neighbour ring around each candidate region, and how much of it is particle
    grown = ndimage.grey_dilation(comp, footprint=st)
    ring = (comp == 0) & (grown > 0)
    total = np.bincount(grown[ring], minlength=n + 1)
    walled = np.bincount(grown[ring & solid], minlength=n + 1)
    keep = walled >= enclosed_fraction * np.maximum(total, 1)
    keep[0] = False
    out[keep[comp]] = crack
    report(progress, 1.0, "cracks: done")
    return out
