"""pvbatch: EVX Electrode Phantom -> EVX Tortuosity for the pores (tau in x, y, z) and for the
electronic network (am + cbd), fetched and written as JSON for tests/test_paraview_tortuosity.py.

usage: tortuosity.py RESULT.json
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _pvtest import dump_dataset, dump_table, write_json  # noqa: E402
from paraview import servermanager  # noqa: E402
from paraview.simple import EVXElectrodePhantom, EVXTortuosity  # noqa: E402

src = EVXElectrodePhantom(BoxSize=[12.0, 12.0, 16.0], VoxelSize=[0.5, 0.5, 0.5], Seed=3, ParticleD50=5.0)
ions = EVXTortuosity(Input=src, Phases="pore", Axis=2)
electrons = EVXTortuosity(Input=src, Conductivities="am=1,cbd=1", Axis=2)
out = {"labels": dump_dataset(servermanager.Fetch(src))}
for name, proxy in (("ions", ions), ("electrons", electrons)):
    out[name] = {"fields": dump_dataset(servermanager.Fetch(proxy, idx=0)),
                 "table": dump_table(servermanager.Fetch(proxy, idx=1))}
write_json(sys.argv[1], out)
