"""Synthetic thick electrodes and PFIB-SEM image phantoms with known ground truth.

Numerical cores only (numpy/scipy in, numpy out; no VTK).  Conventions: arrays are indexed
``[z, y, x]`` with z the electrode thickness (0 at the current collector); voxel sizes are
given as ``spacing`` in micrometres in the same (z, y, x) order; labels use the default legend
(``electrovox.phases.DEFAULT_LEGEND``: 0 pore, 1 cbd, 2 am, 3 crack, 4 separator, 5 collector).
Everything is deterministic from ``seed``.  Long work reports ``progress(fraction, message)``.

Modules (one concept each):

- ``packing``  — polydisperse near-spherical secondary particles packed to a target solid
  fraction with at most a set calendering overlap: particle id map + centres + radii;
- ``cracks``   — intergranular cracks inside particles (grain boundaries from the centre out);
- ``cbd``      — carbon-binder domain at necks and on surfaces, "slurry" or "dry" morphology;
- ``electrode``— the generator that assembles the above into a labelled electrode
  (:func:`generate_electrode`), with optional gradient, separator and collector layers;
- ``cycling``  — the cycling transform (crack growth, CBD detachment) with recorded changes;
- ``imaging``  — a PFIB-SEM-like greyscale stack from labels (grey levels, texture, blur, noise
  at a given SNR, curtaining, drift, pore-back) with the exact labels on the image grid.
"""
