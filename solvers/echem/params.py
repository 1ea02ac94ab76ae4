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

_KEEP = ("c_rate", "cutoff_v", "resample_um", "area_factor", "output_rows", "frames", "dsto_target", "seed")

#: `electrovox scenarios`: the discharge settings every scenario shares (the scenario's own
#: switches, CEI and clogging, are set by :data:`~electrovox.solvers.echem.scenarios.SCENARIOS`)
SCENARIO_RUN = ParamSet("scenarios", [p for p in DISCHARGE.params if p.name in _KEEP] + [
    Param("scenarios", "str", None, "Comma-separated subset of pristine, cei, thick_cei, cei_cbd_clogging, "
          "cei_full_clogging (default: all five; pristine is always run: it is the overpotential's reference).",
          pv=""),
])

#: `electrovox thickness`: the thickness study (Fig. S9)
THICKNESS = ParamSet("thickness", [
    Param("thicknesses_um", "str", "80,160,240", "Electrode thicknesses, comma-separated (the study's 80, 160, "
          "240).", unit="um", cli="thicknesses-um", pv=""),
    Param("lateral_um", "float", 20.0, "Side of the square cross-section of every electrode.", unit="um",
          range=(0.1, None), pv=""),
    Param("voxel_um", "float", 1.0, "Cubic voxel size of the synthetic electrodes.", unit="um",
          range=(0.01, None), pv=""),
    Param("seed", "int", 1, "Phantom seed, the same for every thickness (only the thickness changes).",
          range=(0, None), pv=""),
    Param("c_rate", "float", 1.0 / 3.0, "Discharge rate in C (the study's C/3).", range=(1e-4, 100.0), pv=""),
    Param("cutoff_v", "float", None, "Lower voltage cut-off; default: the parameter set's (3.5).", unit="V",
          range=(0.5, 5.0), pv=""),
    Param("d50_um", "float", 10.0, "Median secondary-particle diameter of the phantoms (the generator's "
          "default, NMC811 of the study).", unit="um", range=(0.1, None), pv=""),
])
