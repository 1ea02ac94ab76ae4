"""Helpers for the pvbatch/pvpython test scripts (imported from the scripts' own folder).

They turn fetched VTK data into plain JSON, so the pytest side (any Python) compares it with
numpy against its own reference.
"""

import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLUGIN = os.path.join(ROOT, "filters", "pvplugin", "ElectroVox.py")


def array_info(arr):
    from vtkmodules.util import numpy_support

    info = {"vtk_type": arr.GetDataTypeAsString(), "components": arr.GetNumberOfComponents(),
            "tuples": arr.GetNumberOfTuples()}
    if arr.IsA("vtkDataArray"):
        info["values"] = numpy_support.vtk_to_numpy(arr).tolist()
    else:  # string arrays
        info["values"] = [arr.GetVariantValue(i).ToString() for i in range(arr.GetNumberOfValues())]
    return info


def dump_dataset(data):
    """JSON-ready description of a fetched vtkDataObject (image geometry, arrays, field data)."""
    out = {"class": data.GetClassName()}
    if data.IsA("vtkImageData"):
        out.update(dims=list(data.GetDimensions()), spacing=list(data.GetSpacing()),
                   origin=list(data.GetOrigin()), extent=list(data.GetExtent()))
    pd = data.GetPointData() if hasattr(data, "GetPointData") else None
    out["point_arrays"] = {}
    if pd is not None:
        for i in range(pd.GetNumberOfArrays()):
            arr = pd.GetAbstractArray(i)
            out["point_arrays"][arr.GetName()] = array_info(arr)
        scalars = pd.GetScalars()
        out["active_scalars"] = scalars.GetName() if scalars is not None else None
    out["field"] = {}
    fd = data.GetFieldData()
    if fd is not None:
        for i in range(fd.GetNumberOfArrays()):
            arr = fd.GetAbstractArray(i)
            out["field"][arr.GetName()] = array_info(arr)
    return out


def dump_table(t):
    """Columns of a fetched vtkTable: {name: [values per row]} (strings for string columns)."""
    cols = {}
    for i in range(t.GetNumberOfColumns()):
        c = t.GetColumn(i)
        cols[c.GetName()] = [c.GetVariantValue(r).ToString() if not c.IsA("vtkDataArray") else c.GetValue(r)
                             for r in range(t.GetNumberOfRows())]
    return cols


def write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=1)
    os.replace(tmp, path)


def log(*args):
    print("[pv-test]", *args, file=sys.stderr, flush=True)
