"""Numerical cores of ElectroVox (numpy/scipy in, numpy and numbers out; no VTK).

- :mod:`electrovox.solvers.phantoms` — synthetic electrodes, the cycling transform and
  PFIB-SEM image phantoms with known ground truth;
- :mod:`electrovox.solvers.transport` — diffusion / conduction (tortuosity factor) and flow
  tortuosity.

Conventions: volumes are arrays indexed ``[z, y, x]`` (z the electrode thickness), voxel sizes
``spacing`` are (dz, dy, dx) in micrometres, axes are named ``"z"``, ``"y"``, ``"x"`` (integers
index the (z, y, x) array axes), and errors a user can fix are
:class:`~electrovox.errors.BadInput` naming the keyword argument at fault.
"""
