"""pvbatch: the phantom proxies (EVX Electrode Phantom -> EVX Cycling Transform, EVX FIBSEM Image
Phantom), fetched and written as JSON for tests/test_paraview_phantoms.py.

usage: phantoms.py RESULT.json
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _pvtest import dump_dataset, write_json  # noqa: E402
from paraview import servermanager  # noqa: E402
from paraview.simple import EVXCyclingTransform, EVXElectrodePhantom, EVXFIBSEMImagePhantom  # noqa: E402

src = EVXElectrodePhantom(BoxSize=[16.0, 16.0, 20.0], VoxelSize=[0.5, 0.5, 0.5], Seed=3, ParticleD50=6.0)
cycled = EVXCyclingTransform(Input=src, CrackGrowth=0.24, ContactLoss=0.20, Seed=4)
image = EVXFIBSEMImagePhantom(Input=src, ImageVoxelSize=[250.0, 250.0, 500.0], SNR=8.0, Seed=5)
out = {}
for name, proxy in (("electrode", src), ("cycled", cycled), ("image", image)):
    out[name] = dump_dataset(servermanager.Fetch(proxy))
write_json(sys.argv[1], out)
