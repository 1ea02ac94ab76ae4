"""pvbatch: EVX Flow Tortuosity on velocity files opened as a user would (OpenDataFile, ParaView's
own readers), the table fetched and written as JSON.  No rendering, so no X server is needed.

usage: flow_tortuosity.py SPEC.json RESULT.json   (also under mpiexec: bin/electrovox-pvbatch --mpi)
SPEC: a list of cases {"id": str, "path": str, "props": {property: value} (set on EVXFlowTortuosity)}
RESULT: {id: {"reader": XML name, "class": fetched class, "table": {column: [values]},
              "metrics": the field-data JSON text or null,
              "piece_points": [points of the reader's piece on each process] (MPI runs only)},
         "properties": [EVXFlowTortuosity's], "processes": number of MPI processes}
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _pvtest import log, write_json  # noqa: E402
from paraview import servermanager  # noqa: E402
from paraview.simple import Delete, EVXFlowTortuosity, OpenDataFile  # noqa: E402


def table(t):
    cols = {}
    for i in range(t.GetNumberOfColumns()):
        c = t.GetColumn(i)
        cols[c.GetName()] = [c.GetVariantValue(r).ToString() if not c.IsA("vtkDataArray") else c.GetValue(r)
                             for r in range(t.GetNumberOfRows())]
    return cols


spec_path, result_path = sys.argv[1], sys.argv[2]
with open(spec_path) as f:
    cases = json.load(f)

nprocs = servermanager.vtkProcessModule.GetProcessModule().GetNumberOfLocalPartitions()
result = {"processes": nprocs}
for case in cases:
    log("case", case["id"])
    reader = OpenDataFile(case["path"])
    tau = EVXFlowTortuosity(Input=reader, **case.get("props", {}))
    result.setdefault("properties", list(tau.ListProperties()))
    tau.UpdatePipeline()
    t = servermanager.Fetch(tau)
    metrics = t.GetFieldData().GetAbstractArray("metrics") if t is not None else None
    if metrics is not None and metrics.GetNumberOfValues() == 0:
        metrics = None
    result[case["id"]] = {"reader": reader.GetXMLName(), "class": t.GetClassName() if t is not None else None,
                          "table": table(t) if t is not None else {},
                          "metrics": metrics.GetValue(0) if metrics is not None else None}
    if nprocs > 1:  # each process's piece of the input (Fetch(proxy, rank))
        result[case["id"]]["piece_points"] = [servermanager.Fetch(reader, rank).GetNumberOfPoints()
                                              for rank in range(nprocs)]
    Delete(tau)
    Delete(reader)
write_json(result_path, result)
log("done")
