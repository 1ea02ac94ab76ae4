"""Parameters of the transport solvers, declared once (CLI options, ParaView properties, docs)."""

from electrovox.params import Param, ParamSet
from electrovox.phases import PHASE_NAMES

TORTUOSITY = ParamSet("tortuosity", [
    Param("phases", "phases", ("pore",), "Conducting phases, each with the bulk conductivity 1 (ions: pore or "
          "pore,crack).", choices=PHASE_NAMES),
    Param("axis", "choice", "z", "Direction of the potential drop.", choices=("x", "y", "z"), required=True),
    Param("all_axes", "bool", True, "Solve x, y and z for the table (the fields are those of Axis).", cli=""),
    Param("cbd_factor", "float", None, "Relative conductivity of the nanoporous CBD, e.g. 0.1 (default, -1 in "
          "ParaView: the CBD does not conduct).", label="CBD factor", pv="CBDFactor", pv_default=-1.0,
          range=(None, None), advanced=True),
    Param("conductivities", "str", "", "Per-phase conductivities instead of Phases, e.g. am=10,cbd=1 for the "
          "electronic network.", metavar="PHASE=VALUE,...", advanced=True),
    Param("flux_tol", "float", 1e-6, "Stop when the flux through every cross-section agrees within this "
          "relative tolerance.", range=(1e-12, 0.1), label="Flux tolerance", advanced=True),
])

FLOW_TORTUOSITY = ParamSet("flow_tortuosity", [
    Param("array_name", "str", "", "The velocity array (3 components x y z), e.g. U (OpenFOAM) or velocity; "
          "empty: the first 3-component array.", cli="array", label="Array Name", metavar="NAME"),
    Param("axis", "choice", "auto", "Mean-flow direction; auto: the component of the largest mean velocity.",
          choices=("auto", "x", "y", "z"), pv_values=(-1, 0, 1, 2)),
    Param("association", "choice", "auto", "Where the array is: auto (points, else cells), point or cell data "
          "(cell data of a mesh is weighted by cell volume).", choices=("auto", "points", "cells"),
          pv_values=(-1, 0, 1), cli="", advanced=True),
])
