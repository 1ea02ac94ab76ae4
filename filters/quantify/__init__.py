"""Quantification of label volumes: numerical cores (numpy/scipy in, numbers and tables out; no VTK).

Conventions: label arrays ``[z, y, x]`` with a legend ``{id: phase name}`` (phases looked up by
name: pore, cbd, am, crack, separator, collector); ``spacing`` = voxel size in um in (z, y, x)
order, possibly anisotropic; z is the electrode thickness, z = 0 at the current collector.

Modules (one concept each):

- ``fractions``    — volume fractions, profiles along an axis, crack fraction of particles;
- ``surfaces``     — surface and interface areas with an estimator accurate on voxel data,
  specific surface areas, particle-CBD contact fraction;
- ``connectivity`` — connected components, largest-aggregate share, percolation to the current
  collector / separator, electronically isolated active material, dead pores;
- ``rev``          — representative-volume analysis (metrics on growing or random sub-volumes);
- ``compare``      — one table of every metric for several volumes, relative to the first.
"""
