"""Parameters of the discharge run, declared once (CLI options, ParaView properties, docs).

The physical parameters (conductivities, kinetics, CEI film...) live in
:mod:`~electrovox.solvers.echem.parameters` and travel as a BPX file (``--params``); these are the
run's settings and the study's scenario switches.
"""

from electrovox.params import Param, ParamSet
from electrovox.solvers.echem.mesh import CLOGGING
from electrovox.solvers.echem.parameters import CEI_MODES

DISCHARGE = ParamSet("discharge", [
    Param("c_rate", "float", None, "Lithiation rate in C (1C = 280 mAh/g of NMC811, the study's basis); "
          "default: the parameter set's (0.5).", label="C-Rate", pv_default=0.5, range=(1e-4, 100.0)),
    Param("cutoff_v", "float", None, "Lower voltage cut-off: the run ends there; default: the parameter set's "
          "(3.5).", unit="V", label="Cut-off Voltage", pv_default=3.5, range=(0.5, 5.0)),
    Param("cei", "choice", None, "CEI film thickness field: none (pristine), uniform, or gradient (Gaussian, "
          "mean rising along z toward the separator, clipped; the study's CEI); default: the parameter set's "
          "(none).", choices=CEI_MODES, label="CEI", pv_default="none"),
    Param("cei_scale", "float", None, "Factor on every CEI thickness (2: the study's thick CEI); default: the "
          "parameter set's (1).", label="CEI Scale", pv_default=1.0, range=(0.0, 100.0)),
    Param("clogging", "choice", "none", "none; cbd (no Li+ transport or reaction through the CBD); full (cbd, and "
          "the pores' effective transport halved: tortuosity x 2).", choices=CLOGGING),
    Param("resample_um", "float", None, "Cubic voxel size to resample the labels to first (e.g. 0.5 for a quick "
          "run); default none (0 in ParaView).", unit="um", label="Resample To", pv_default=0.0,
          range=(0.0, None), metavar="V"),
    Param("area_factor", "float", None, "True / counted active-material surface area applied to every reaction "
          "face; default: measured with the surface estimator (0 in ParaView).", label="Area Factor",
          pv_default=0.0, range=(0.0, 10.0), advanced=True),
    Param("output_rows", "int", 100, "History rows (fixed output times) over the nominal duration 1/C-rate.",
          label="Output Rows", range=(2, 100_000), advanced=True),
    Param("frames", "int", 10, "3D frames over the nominal duration (plus the first and the last).",
          range=(1, 10_000), advanced=True),
    Param("dsto_target", "float", 0.02, "Time-step control: the largest stoichiometry change of a voxel per step.",
          label="Step Target", range=(1e-4, 0.5), advanced=True),
    Param("seed", "int", 0, "Seed of the Gaussian CEI thickness field.", range=(0, None), advanced=True),
])
