"""In the ParaView runtime (.venv-pv/bin/python or pvpython): Volume <-> vtkImageData, and
.vti / .nc files written and read back by electrovox.io.

usage: roundtrip.py INPUT.npz OUTDIR
INPUT.npz holds arrays named CASE (each [z, y, x]) and "spec" (JSON text: {CASE: {spacing,
origin, legend}}).  For every case and route (vtk, vti, nc) OUTDIR gets CASE__ROUTE.npy (the array
read back) and result.json (dtype, spacing, origin, legend, name, VTK dims/spacing/origin).
"""

import json
import os
import sys

import numpy as np

from electrovox.io import read_volume, write_volume
from electrovox.io.vtk_image import volume_to_vtk, vtk_to_volume
from electrovox.volume import Volume

in_path, out_dir = sys.argv[1], sys.argv[2]
os.makedirs(out_dir, exist_ok=True)
data = np.load(in_path)
spec = json.loads(str(data["spec"]))
result = {"numpy": np.__version__, "python": sys.version.split()[0]}
for case, s in spec.items():
    legend = {int(k): v for k, v in s["legend"].items()} if s["legend"] else None
    vol = Volume(data[case], s["spacing"], s["origin"], legend=legend, name=s["name"])
    image = volume_to_vtk(vol)
    back = {"vtk": vtk_to_volume(image)}
    for suffix in ("vti", "nc"):
        path = os.path.join(out_dir, f"{case}.{suffix}")
        write_volume(path, vol, force=True)
        back[suffix] = read_volume(path)
    arr = image.GetPointData().GetArray(vol.name)
    result[case] = {"vtk_image": {"dims": list(image.GetDimensions()), "spacing": list(image.GetSpacing()),
                                  "origin": list(image.GetOrigin()), "array_type": arr.GetDataTypeAsString()}}
    for route, v in back.items():
        np.save(os.path.join(out_dir, f"{case}__{route}.npy"), v.array)
        result[case][route] = {"dtype": str(v.array.dtype), "shape": list(v.array.shape),
                               "spacing": list(v.spacing), "origin": list(v.origin), "name": v.name,
                               "legend": {str(k): n for k, n in v.legend.items()} if v.legend else None}
with open(os.path.join(out_dir, "result.json"), "w") as f:
    json.dump(result, f, indent=1)
