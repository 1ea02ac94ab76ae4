"""Electrochemistry: the 3D microstructure-resolved discharge of an NMC811 | Li metal half cell.

- :mod:`~electrovox.solvers.echem.parameters`: :class:`EchemParameters` (NMC811, carbon-binder
  domain, LiPF6 in EC:EMC 3:7, separator, Li-metal counter electrode, CEI film, cell), SI units,
  every field with its unit and source; :func:`default_parameters`, ``describe`` and ``check``;
- :mod:`~electrovox.solvers.echem.bpx`: the parameters as BPX JSON (``to_bpx`` / ``from_bpx``,
  ``read_bpx`` / ``write_bpx``), the microstructure quantities under BPX's ``User-defined``.

- :mod:`~electrovox.solvers.echem.solid`: lithium diffusion in the active-material voxels driven
  by the flux through their surface (area corrected toward the true surface), verified against
  Crank's sphere.

The coupled solver (electrolyte, potentials, Butler-Volmer, CEI) that steps the discharge in time
comes next.
"""
