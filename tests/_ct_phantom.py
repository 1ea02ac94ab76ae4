"""A lab/synchrotron X-ray-CT-like greyscale image of a labelled electrode (test data only).

X-ray attenuation of the carbon-binder domain (carbon black and PVDF: light elements, nanoporous)
is close to that of the empty pores, while the NMC particles (Ni, Mn, Co oxides) attenuate
strongly; at CT voxel sizes (0.3-1 um) the CBD is also finer than the resolution.  So the image
shows two grey levels: pore and CBD nearly alike (0.20 and 0.23 on a 0..1 scale, 5 % of the
pore-particle contrast apart), the particles bright (0.75).  Cubic voxels, an isotropic Gaussian
point spread and Gaussian noise; none of the FIB-SEM artifacts (no curtaining, drift or
pore-back).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

#: grey level per label id of the default legend (0 pore, 1 cbd, 2 am, 3 crack)
CT_LEVELS = {0: 0.20, 1: 0.23, 2: 0.75, 3: 0.20}


def render_ct(labels, *, snr=6.0, psf_sigma_vox=0.8, levels=None, seed=0) -> np.ndarray:
    """Float32 CT-like image of ``labels`` (default legend) on the same grid.

    ``snr``: (level(am) - level(pore)) / noise sigma; ``psf_sigma_vox``: Gaussian blur sigma in
    voxels (isotropic).
    """
    lv = dict(CT_LEVELS if levels is None else levels)
    lut = np.zeros(256, np.float32)
    for k, v in lv.items():
        lut[k] = v
    img = lut[np.asarray(labels, np.uint8)]
    img = ndimage.gaussian_filter(img, psf_sigma_vox, mode="reflect")
    sigma = (lv[2] - lv[0]) / float(snr)
    img += np.random.default_rng(seed).normal(0.0, sigma, img.shape).astype(np.float32)
    return img.astype(np.float32)
