"""Parameters of the permeability solver, declared once (CLI options, ParaView properties, docs)."""

from electrovox.params import Param, ParamSet
from electrovox.phases import PHASE_NAMES

PERMEABILITY = ParamSet("permeability", [
    Param("axis", "choice", "z", "Flow direction (the body force and the mean flow).", choices=("x", "y", "z"),
          required=True),
    Param("all_axes", "bool", False, "Solve x, y and z for the table (the fields are those of Axis).", cli=""),
    Param("fluid", "phases", ("pore", "crack"), "Phases that carry flow; every other phase is solid (the "
          "CBD too, unless it is given a permeability).", choices=PHASE_NAMES),
    Param("cbd_permeability_m2", "float", None, "Permeability of the nanoporous CBD as a grey (Brinkman) "
          "medium; default (0 in ParaView): solid CBD.", unit="m^2", label="CBD Permeability",
          pv_default=0.0, range=(0.0, None), metavar="K", advanced=True),
    Param("resample_um", "float", None, "Cubic voxel size to resample to first (the study: 0.1); default: the "
          "largest voxel size when the voxels are anisotropic, else none (0 in ParaView).", unit="um",
          label="Resample To", pv_default=0.0, range=(0.0, None), metavar="V"),
    Param("max_steps", "int", 200_000, "Step cap: a run that reaches it reports converged: false.",
          range=(2, None), advanced=True),
    Param("tol", "float", 1e-4, "Converged when k changes less than this (relative) over window_steps.",
          label="Tolerance", range=(1e-12, 0.1), advanced=True),
    Param("tau", "float", 1.0, "Relaxation time (lattice); with TRT k does not depend on it.",
          range=(0.5001, 10.0), advanced=True),
    Param("collision", "choice", "trt", "Collision: TRT (magic parameter 3/16) or BGK.", choices=("trt", "bgk"),
          advanced=True),
    Param("dtype", "choice", "float32", "Population storage (float32 stored shifted, or float64).",
          choices=("float32", "float64"), label="Precision", cli="precision", advanced=True),
    Param("boundary", "choice", "mirror", "Along the flow: mirror the image (real images), or take it as periodic "
          "already (unit cells, periodic phantoms).", choices=("mirror", "periodic"), advanced=True),
    Param("lateral", "choice", "periodic", "Faces parallel to the flow: periodic, or closed by walls.",
          choices=("periodic", "walls"), advanced=True),
])
