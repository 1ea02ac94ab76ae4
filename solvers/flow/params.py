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

IMPREGNATION = ParamSet("impregnation", [
    Param("contact_angle", "str", "am=30,cbd=20", "Contact angle of each solid phase through the electrolyte, "
          "degrees, as phase=angle pairs: am, cbd, collector (the foil when the outlet is closed; default 45), "
          "other (any other solid; default 90). Phases not given keep their defaults (am 30, cbd 20: assumed, "
          "an electrolyte that wets the oxide and the carbon).", label="Contact Angles", metavar="PHASE=DEG,..."),
    Param("viscosity_ratio", "float", 20.0, "Electrolyte over air dynamic viscosity (the real pair is ~170; the "
          "saturation curve converges in it: docs/impregnation.md).", range=(1.0, 200.0), metavar="M"),
    Param("outlet", "choice", "open", "Collector face: open (the air leaves there; the study's set-up and vacuum "
          "filling) or closed (the foil is solid: the air leaves counter-current through the separator face or "
          "stays trapped).", choices=("open", "closed"), cli="", label="Air Outlet"),
    Param("overpressure_Pa", "float", 0.0, "Pressure of the electrolyte reservoir above the air's, Pa: 0 is "
          "spontaneous imbibition (the capillary pressure alone); 1e5 is one atmosphere pushing the electrolyte into "
          "an evacuated cell (pressure filling). The lattice takes a density step of at most 0.05: a large "
          "overpressure needs fine voxels.", unit="Pa", label="Overpressure", range=(0.0, 1e7),
          cli="overpressure", metavar="PA"),
    Param("resample_um", "float", None, "Cubic voxel size to resample the labels to first (the steps to fill grow "
          "as the voxels along z squared over the pore size in voxels; finer voxels interpolate the labels, which "
          "rounds off the staircase that pins the front); default: none, or the largest voxel size when the voxels "
          "are anisotropic (0 in ParaView).", unit="um", label="Resample To", pv_default=0.0,
          range=(0.0, None), metavar="V"),
    Param("max_steps", "int", None, "Lattice step cap; default: three times the Darcy filling estimate (at least "
          "20 000). ParaView: 20 000 (its frames' times are then known before the run, for the animation); 0 "
          "there means automatic.", label="Max Steps", pv_default=20_000, range=(0, None), metavar="N"),
    Param("frames", "int", 20, "3D frames over the run (plus the first and the last).", range=(1, 10_000),
          advanced=True),
    Param("electrolyte_viscosity_Pa_s", "float", 3e-3, "Electrolyte dynamic viscosity, Pa s (a carbonate electrolyte).",
          label="Electrolyte Viscosity", range=(1e-5, 10.0), cli="electrolyte-viscosity",
          advanced=True),
    Param("surface_tension_N_m", "float", 0.035, "Electrolyte-air surface tension, N/m (a carbonate electrolyte).",
          label="Surface Tension", range=(1e-4, 1.0), cli="surface-tension", advanced=True),
])
