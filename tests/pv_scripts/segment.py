"""pvbatch: EVX FIBSEM Image Phantom -> EVX Segment (and the single-step filters), fetched and
written as JSON for tests/test_paraview_segment.py.

usage: segment.py RESULT.json
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _pvtest import dump_dataset, write_json  # noqa: E402
from paraview import servermanager  # noqa: E402
from paraview.simple import (  # noqa: E402
    EVXElectrodePhantom,
    EVXFIBSEMImagePhantom,
    EVXFindCracks,
    EVXImageStep,
    EVXResample,
    EVXSegment,
)

src = EVXElectrodePhantom(BoxSize=[10.0, 10.0, 8.0], VoxelSize=[0.2, 0.2, 0.2], Seed=3, ParticleD50=4.0)
image = EVXFIBSEMImagePhantom(Input=src, ImageVoxelSize=[100.0, 100.0, 200.0], SNR=8.0, Seed=5)
seg = EVXSegment(Input=image)
step = EVXImageStep(Input=image, Step=3)
resampled = EVXResample(Input=seg, ArrayName="labels", VoxelSize=0.2)
# the GUI's "linear" entry: refines the segmentation's 0.1 um voxels to 0.05 um
refined = EVXResample(Input=seg, ArrayName="labels", VoxelSize=0.05, LabelMethod="linear")
cracks = EVXFindCracks(Input=seg)
out = {}
for name, proxy in (("image", image), ("segment", seg), ("step", step), ("resampled", resampled),
                    ("refined", refined), ("cracks", cracks)):
    out[name] = dump_dataset(servermanager.Fetch(proxy))
write_json(sys.argv[1], out)
