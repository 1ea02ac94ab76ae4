"""pvbatch: EVX Quantify (two table outputs) and EVX Connected Components on an electrode phantom.

usage: quantify.py RESULT.json
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _pvtest import dump_dataset, dump_table, write_json  # noqa: E402
from paraview import servermanager  # noqa: E402
from paraview.simple import (  # noqa: E402
    EVXCompare,
    EVXConnectedComponents,
    EVXCyclingTransform,
    EVXElectrodePhantom,
    EVXQuantify,
    EVXRepresentativeVolume,
)

src = EVXElectrodePhantom(BoxSize=[16.0, 16.0, 20.0], VoxelSize=[0.5, 0.5, 0.5], Seed=3, ParticleD50=6.0)
q = EVXQuantify(Input=src)
comps = EVXConnectedComponents(Input=src, Phase="cbd", Connectivity=6)
rev = EVXRepresentativeVolume(Input=src)
cycled = EVXCyclingTransform(Input=src, CrackGrowth=0.24, ContactLoss=0.20, Seed=4)
cmp = EVXCompare(Input=[src, cycled])
out = {"labels": dump_dataset(servermanager.Fetch(src)),
       "metrics": dump_table(servermanager.Fetch(q, idx=0)),
       "profiles": dump_table(servermanager.Fetch(q, idx=1)),
       "components": dump_dataset(servermanager.Fetch(comps)),
       "rev": dump_table(servermanager.Fetch(rev)),
       "compare": dump_table(servermanager.Fetch(cmp)),
       "cycled": dump_dataset(servermanager.Fetch(cycled))}
write_json(sys.argv[1], out)
