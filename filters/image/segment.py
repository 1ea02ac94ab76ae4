"""Multi-phase segmentation of a (corrected, denoised) greyscale image into pore / CBD / active material.

:func:`segment_phases` labels every voxel from grey levels estimated on the image itself
(:func:`~electrovox.filters.image.levels.estimate_levels`), in three steps:

1. *intensity classes*: the Bayes decision points of a Gaussian mixture fitted to the histogram
   (darkest: pore, middle: CBD, brightest: active material; two classes in two-phase mode);
2. *markers*: voxels whose class is certain.  Pore and active-material voxels are markers of
   their class.  A CBD-level voxel is a marker only if its face neighbours are CBD-level too:
   a blurred particle-pore boundary passes through the CBD grey levels in a layer one or two
   voxels thick, and must not become a CBD shell around every particle, while real CBD
   aggregates are thicker.  Thin bright CBD (fibrils, films) in dark pores is kept by a white
   top-hat: CBD-level voxels much brighter than their surroundings and not touching active
   material are CBD markers too;
3. *marker watershed* on the gradient magnitude: every remaining voxel joins the marker region
   it floods from across the lowest gradient, so a partial-volume layer is split between the
   particle and the pore at the steepest point of the edge, as a careful manual segmentation
   would.

Two-phase mode (``phases=("pore", "am")``, e.g. lab X-ray CT where the CBD is not resolved) uses
two classes and no CBD.  A single slice (shape (1, ny, nx)) is segmented in 2D.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from electrovox.errors import BadInput
from electrovox.filters.image.levels import estimate_levels
from electrovox.progress import report

PORE, CBD, AM, CRACK = 0, 1, 2, 3


def structure(shape) -> np.ndarray:
    """Face-neighbour structuring element over the axes of ``shape`` longer than 1.

    A single slice is treated in 2D: eroding along an axis of length 1 would empty the image.

    Parameters
    ----------
    shape : tuple of 3 int
        Shape of the volume the element is for.

    Returns
    -------
    ndarray of bool, shape (3, 3, 3)
        The element.
    """
    st = ndimage.generate_binary_structure(3, 1)
    for ax, n in enumerate(shape):
        if n == 1:
            sl = [slice(None)] * 3
            for k in (0, 2):
                sl[ax] = k
                st[tuple(sl)] = False
    return st


def ellipsoid(radius_um: float, spacing, shape=None) -> np.ndarray:
    """Boolean footprint of a ball of ``radius_um`` in physical units on voxels of ``spacing``.

    An ellipsoid in voxels on anisotropic grids.

    Parameters
    ----------
    radius_um : float
        Radius in um.
    spacing : tuple of 3 float
        Voxel size (dz, dy, dx) in um.
    shape : tuple of 3 int, optional
        Shape of the volume: axes of length 1 get radius 0.

    Returns
    -------
    ndarray of bool, shape (2 rz + 1, 2 ry + 1, 2 rx + 1)
        The footprint (``r = floor(radius_um / spacing)`` voxels per axis).
    """
    r = [max(0, int(np.floor(radius_um / s + 1e-9))) for s in spacing]
    if shape is not None:
        r = [0 if n == 1 else ri for ri, n in zip(r, shape, strict=True)]
    z, y, x = np.ogrid[-r[0]:r[0] + 1, -r[1]:r[1] + 1, -r[2]:r[2] + 1]
    return (z * spacing[0]) ** 2 + (y * spacing[1]) ** 2 + (x * spacing[2]) ** 2 <= radius_um ** 2 * (1 + 1e-9)


def gradient_magnitude(image: np.ndarray, spacing, sigma_um: float | None = None) -> np.ndarray:
    """Gaussian gradient magnitude in physical units.

    Parameters
    ----------
    image : ndarray, shape (nz, ny, nx)
        Greyscale image.
    spacing : tuple of 3 float
        Voxel size (dz, dy, dx) in um.
    sigma_um : float, optional
        Derivative-of-Gaussian sigma in um on every axis (default: the smallest voxel size).

    Returns
    -------
    ndarray of float32, shape (nz, ny, nx)
        Gradient magnitude in image units per um (axes of length 1 contribute nothing).
    """
    sp = np.asarray(spacing, dtype=np.float64)
    s = float(sp.min()) if sigma_um is None else float(sigma_um)
    sig = [0.0 if n == 1 else s / d for d, n in zip(sp, image.shape, strict=True)]
    img = np.asarray(image, dtype=np.float32)
    out = np.zeros(img.shape, dtype=np.float32)
    for ax in range(3):
        if img.shape[ax] == 1:
            continue
        order = [0, 0, 0]
        order[ax] = 1
        g = ndimage.gaussian_filter(img, sig, order=order) / np.float32(sp[ax])
        out += g * g
    return np.sqrt(out, out=out)


def segment_phases(image: np.ndarray, spacing, *, phases=("pore", "cbd", "am"), levels: dict | None = None,
                   tophat_um: float | None = None, progress=None) -> dict:
    """Label a greyscale image into pore (0), CBD (1) and active material (2), or pore and active material.

    The volume is processed in z slabs of about :data:`SLAB_VOXELS` voxels with a halo wider
    than every footprint and the partial-volume layers, so memory stays bounded.

    Parameters
    ----------
    image : ndarray, shape (nz, ny, nx)
        Corrected, denoised greyscale image.
    spacing : tuple of 3 float
        Voxel size (dz, dy, dx) in um.
    phases : tuple of str
        ``("pore", "cbd", "am")`` or ``("pore", "am")`` (two phases: Otsu's threshold and no CBD).
    levels : dict, optional
        Grey levels from :func:`~electrovox.filters.image.levels.estimate_levels` (estimated here
        if None).
    tophat_um : float, optional
        Radius in um of the white top-hat that keeps thin bright CBD in dark pores (default 2 x
        the coarsest voxel size; 0 switches it off).
    progress : callable, optional
        ``progress(fraction, message)``.

    Returns
    -------
    dict
        ``labels`` (uint8, shape of ``image``), ``levels``, ``thresholds`` (the class thresholds
        used) and ``edge_blur_um`` (the estimated edge blur, Gaussian sigma in um).

    Raises
    ------
    BadInput
        Source ``segment_phases``: an unsupported ``phases`` set, or ``levels`` of another number
        of phases.
    """
    phases = tuple(phases)
    if phases not in (("pore", "cbd", "am"), ("pore", "am")):
        raise BadInput("segment_phases", f"phases {','.join(phases)} are not supported here",
                       "segment into pore,cbd,am or pore,am (cracks are found afterwards)")
    img = np.asarray(image, dtype=np.float32)
    sp = tuple(float(s) for s in spacing)
    ncls = len(phases)
    if levels is None:
        levels = estimate_levels(img, ncls)
    thr = levels["thresholds"]
    if len(thr) != ncls - 1:
        raise BadInput("segment_phases", f"levels of {len(thr) + 1} phases given for {ncls} phases",
                       f"estimate the levels with {ncls} classes")
    if ncls == 2:
        # two phases: Otsu's threshold.  With many partial-volume voxels (small particles, lab
        # CT) the mixture's bright component widens and its Bayes point slides toward the pore
        # level; the between-class criterion stays near the half-height of the edges
        from skimage.filters import threshold_otsu
        thr = [float(threshold_otsu(img[:: max(1, img.shape[0] // 64)]))]
    ids = (PORE, CBD, AM) if ncls == 3 else (PORE, AM)
    thr32 = np.asarray(thr, dtype=np.float32)
    report(progress, 0.05, "edge blur")
    # global figures first (the edge blur from the gradient of a sample of slabs), then the
    # volume in z slabs with a halo: every step is local (the unmarked voxels are thin layers
    # next to markers), so slabs bound the memory of the watershed (scikit-image works on
    # padded float64 copies) without changing the result away from pathological cases
    r_um, r_top = min(sp), 0.0
    if ncls == 3:
        blur = edge_blur_um(_sample_gradient(img, sp), levels["means"][-1] - levels["means"][0], sp)
        r_um = max(min(sp), 2.0 * blur)
        r_top = 2.0 * max(sp) if tophat_um is None else float(tophat_um)
    erode_fp = ellipsoid(r_um, sp, img.shape) if r_um > min(sp) * 1.01 else structure(img.shape)
    top_fp = ellipsoid(r_top, sp, img.shape) if r_top > 0 else None
    reach = max(erode_fp.shape[0], top_fp.shape[0] if top_fp is not None else 0)
    halo = 0 if img.shape[0] == 1 else int(reach + 2 * int(4.0 * min(sp) / sp[0] + 1) + 4)
    nz = img.shape[0]
    rows = max(1, min(nz, SLAB_VOXELS // max(1, img.shape[1] * img.shape[2])))
    labels = np.empty(img.shape, dtype=np.uint8)
    for z0 in range(0, nz, rows):
        z1 = min(nz, z0 + rows)
        a0, a1 = max(0, z0 - halo), min(nz, z1 + halo)
        block = _segment_block(img[a0:a1], sp, thr32, ncls, ids, levels["means"], erode_fp, top_fp,
                                   structure(img.shape))
        labels[z0:z1] = block[z0 - a0:z1 - a0]
        report(progress, 0.05 + 0.95 * z1 / nz, "watershed")
    report(progress, 1.0, "segmented")
    return {"labels": labels, "levels": levels, "edge_blur_um": float(max(0.0, (r_um - min(sp)) / 2.0)),
            "thresholds": [float(t) for t in thr]}


#: voxels per z slab of the marker watershed (its temporaries: ~25 bytes per voxel)
SLAB_VOXELS = 4_000_000


def _sample_gradient(img, sp, max_voxels=8_000_000):
    """Gradient magnitude of evenly spread slabs of ``img`` (all of it when small)."""
    nz = img.shape[0]
    if img.size <= max_voxels or nz < 16:
        return gradient_magnitude(img, sp)
    rows = max(8, max_voxels // (8 * img.shape[1] * img.shape[2]))
    parts = []
    for z0 in np.linspace(0, nz - rows, 8).astype(int):
        parts.append(gradient_magnitude(img[z0:z0 + rows], sp)[2:-2])   # drop the slab's edge rows
    return np.concatenate(parts)


def _segment_block(img, sp, thr, ncls, ids, means, erode_fp, top_fp, st):
    """Markers and watershed on one (haloed) slab; returns its uint8 labels."""
    from skimage.segmentation import watershed
    cls = np.digitize(img, thr).astype(np.uint8)
    markers = np.zeros(img.shape, dtype=np.int32)
    markers[cls == 0] = ids[0] + 1
    markers[cls == ncls - 1] = ids[-1] + 1
    if ncls == 3:
        mid = cls == 1
        # a CBD marker lies deeper inside the CBD-level class than the partial-volume layer of a
        # particle-pore edge is thick: that layer's half-width is about twice the edge blur
        core = ndimage.binary_erosion(mid, erode_fp, border_value=1)
        if top_fp is not None:
            # thin bright CBD in dark pores: the white top-hat response of a thin film or fibril is
            # its contrast over the pore; only voxels away from active material qualify (next to a
            # particle a CBD-level voxel may be the particle's own blurred edge)
            # on the image smoothed by a Gaussian of one finest voxel (in um on every axis): a film
            # three pixels wide keeps 87 % of its contrast, while the noise peaks that an
            # edge-preserving denoiser leaves on fine pixels (a 15 nm PFIB pixel under 100 nm
            # slices) no longer pass for CBD all over the pores
            sig = [0.0 if n == 1 else min(sp) / d for d, n in zip(sp, img.shape, strict=True)]
            sm = ndimage.gaussian_filter(img, sig)
            tophat = sm - ndimage.grey_opening(sm, footprint=top_fp)
            del sm
            near_am = ndimage.binary_dilation(cls == 2, st)
            half = np.float32(0.5 * (means[1] - means[0]))
            film = mid & (tophat > half) & ~near_am
            del tophat, near_am
            core |= film
            del film
        markers[core] = CBD + 1
        del mid, core
    del cls
    grad = gradient_magnitude(img, sp)
    # only the unmarked voxels and the markers touching them take part in the flooding: interior
    # markers are settled already, and leaving them out of the watershed's priority queue makes
    # it several times faster (the result is the same: flooding only ever starts at a marker
    # next to an unmarked voxel)
    unmarked = markers == 0
    band = ndimage.binary_dilation(unmarked, st)
    seeds = np.where(band, markers, 0)
    flooded = watershed(grad, seeds, mask=band, connectivity=1)
    del seeds, band, grad
    out = np.where(unmarked, flooded, markers)
    out -= 1
    return out.astype(np.uint8)


def edge_blur_um(grad: np.ndarray, contrast: float, spacing, sigma_um: float | None = None) -> float:
    """Gaussian blur (sigma, um) of the sharpest edges of an image.

    A step of height H blurred by s has a peak gradient H / (s sqrt(2 pi)); the 99.5th percentile
    of the gradient stands for that peak.

    Parameters
    ----------
    grad : ndarray
        Gradient magnitude in image units per um, computed with derivative-of-Gaussian
        ``sigma_um`` (see :func:`gradient_magnitude`).
    contrast : float
        The edge height (image units).
    spacing : tuple of 3 float
        Voxel size (dz, dy, dx) in um.
    sigma_um : float, optional
        The derivative sigma used (default: the finest voxel); it is subtracted in quadrature.

    Returns
    -------
    float
        The blur sigma in um (0.0 when there is no gradient).
    """
    s0 = float(min(spacing)) if sigma_um is None else float(sigma_um)
    g = float(np.percentile(grad[:: max(1, grad.shape[0] // 32)], 99.5))
    if not g > 0:
        return 0.0
    total = abs(float(contrast)) / (g * np.sqrt(2 * np.pi))
    return float(np.sqrt(max(total * total - s0 * s0, 0.0)))
