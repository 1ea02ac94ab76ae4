"""Image filters and segmentation of FIB-SEM / X-ray CT greyscale stacks.

Numerical cores: numpy/scipy/scikit-image in, arrays and small dicts out; no VTK.

Conventions: images ``[z, y, x]`` (any real dtype in, float32 out), ``spacing`` = voxel size in
um in (z, y, x) order, possibly anisotropic; the *slice axis* is the FIB milling direction (the
axis along which the stack was sectioned), the *beam axis* the in-plane direction curtain
stripes run along.  Label outputs are uint8 with the default legend
(0 pore, 1 cbd, 2 am, 3 crack).

Modules (one concept each):

- ``corrections`` — curtaining (stripe) removal, slice-to-slice brightness drift, slice alignment;
- ``denoise``     — anisotropy-aware Gaussian / median / bilateral filters and non-local means;
- ``resample``    — anisotropic stacks to cubic voxels (greyscale: interpolation; labels:
  nearest or majority);
- ``poreback``    — pore-back (shine-through) artifact correction along the slice axis;
- ``levels``      — grey levels of the phases (Gaussian mixture) and how many phases an image
  resolves (:func:`~electrovox.filters.image.levels.detect_phases`);
- ``segment``     — multi-phase segmentation (pore / CBD / active material; two-phase mode);
- ``cracks``      — dark regions enclosed by particles become ``crack``;
- ``pipeline``    — the default chain, image -> labels, with its report.
"""
