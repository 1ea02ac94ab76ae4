"""Lattice Boltzmann flow: absolute permeability, velocity field and flow tortuosity.

- :mod:`~electrovox.solvers.flow.lattice`: D3Q19 constants and the fluid-only neighbour list;
- :mod:`~electrovox.solvers.flow.kernels`: the TRT collision (generated once) and the AA-pattern
  numba kernels;
- :mod:`~electrovox.solvers.flow.lbm`: sparse (numba) and dense (numpy reference) lattices;
- :mod:`~electrovox.solvers.flow.permeability`: :class:`FlowConfig`, :class:`FlowSolver` (a
  :class:`~electrovox.solvers.run.solver.TimeSolver`) and :func:`permeability`, the entry point;
- :mod:`~electrovox.solvers.flow.params`: the parameters as the CLI and ParaView show them;
- :mod:`~electrovox.solvers.flow.twophase`: the colour-gradient two-fluid lattice (electrolyte
  displacing air);
- :mod:`~electrovox.solvers.flow.impregnation`: the impregnation set-up, time scaling,
  :class:`ImpregnationSolver` and :func:`impregnate`, the entry point (issue #24, in progress).
"""
