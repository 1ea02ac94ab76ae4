"""Parameters of the quantification, declared once (CLI options, ParaView properties, docs)."""

from electrovox.params import Param, ParamSet
from electrovox.phases import PHASE_NAMES

CONNECTIVITY = Param("connectivity", "choice", 6, "Voxel connectivity of components: 6 (faces), 18 (edges), "
                     "26 (corners).", choices=(6, 18, 26))

QUANTIFY = ParamSet("quantify", [CONNECTIVITY])

COMPONENTS = ParamSet("components", [
    Param("phase", "choice", "cbd", "The phase whose connected components are labelled.", choices=PHASE_NAMES),
    CONNECTIVITY,
])

REV = ParamSet("representative_volume", [
    Param("mode", "choice", "growing", "Growing centred cubes, or random sub-volumes per size.",
          choices=("growing", "random")),
    Param("n_random", "int", 8, "Random sub-volumes per size (mode random).", cli="samples", pv="Samples",
          label="Samples", range=(1, 1000)),
    Param("seed", "int", 0, "Random seed (mode random).", range=(0, None)),
    CONNECTIVITY,
])
