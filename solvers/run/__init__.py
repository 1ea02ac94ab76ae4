"""The run framework shared by every time-stepping solver (flow, impregnation, electrochemistry).

- :class:`TimeSolver` — the base class: a solver fills in ``advance``, ``observe``, ``frame``,
  ``state``, ``load_state`` (and optionally ``check``, ``finished``) and gets ``run`` /
  ``solve``: in memory or into a run folder, checkpointed, resumable bit for bit, stopped
  cleanly on a divergence with the last good state kept;
- :class:`RunResult` — times, histories, final fields, reason, converged, steps, wall time;
- :class:`RunFolder` — the run folder on disk (``params.json``, ``provenance.json``,
  ``history.csv``, ``checkpoint.npz``, ``fields.pvd`` + ``fields/frame_STEP.vti``,
  ``result.json``), every file written atomically.

numpy only: frames are written by :func:`electrovox.io.vti_xml.write_vti_xml`, without VTK.
"""

from electrovox.solvers.run.folder import Checkpoint, Frame, RunFolder
from electrovox.solvers.run.solver import RunResult, TimeSolver

__all__ = ["TimeSolver", "RunResult", "RunFolder", "Checkpoint", "Frame"]
