"""Transport in microstructures: numerical cores (numpy/scipy in, numbers and arrays out; no VTK).

- ``diffusion``       — steady-state diffusion / conduction on the voxel grid (finite volumes,
  harmonic face conductances): effective conductivity, tortuosity factor, MacMullin number,
  potential and flux fields;
- ``flow_tortuosity`` — the flow tortuosity sum |V| / sum V_i of a velocity field.
"""
