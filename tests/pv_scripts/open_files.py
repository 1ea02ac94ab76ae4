"""pvbatch: open files as a user would (OpenDataFile), optionally apply EVXPhaseLegend, fetch the
data and write what ParaView produced as JSON.  No rendering, so no X server is needed.

usage: open_files.py SPEC.json RESULT.json
SPEC: a list of cases
  {"id": str, "path": str, "props": {property: value} (set on the reader),
   "phase_legend": null or {property: value} (EVXPhaseLegend after the reader),
   "time_steps": bool (fetch each of the reader's TimestepValues through ForceTime)}
RESULT: {id: {"reader": XML name, "timesteps": [...], "data": dump, "steps": [dump, ...],
              "legend_data": dump after EVXPhaseLegend}}
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import json  # noqa: E402

from _pvtest import dump_dataset, log, write_json  # noqa: E402
from paraview import servermanager  # noqa: E402
from paraview.simple import *  # noqa: E402,F403

spec_path, result_path = sys.argv[1], sys.argv[2]
with open(spec_path) as f:
    cases = json.load(f)

result = {}
for case in cases:
    log("case", case["id"])
    src = OpenDataFile(case["path"])  # noqa: F405
    out = {"reader": src.GetXMLName() if src is not None else None}
    if src is None:
        result[case["id"]] = out
        continue
    for key, value in case.get("props", {}).items():
        setattr(src, key, value)
    src.UpdatePipeline()
    out["timesteps"] = list(src.TimestepValues) if "TimestepValues" in src.ListProperties() else []
    out["data"] = dump_dataset(servermanager.Fetch(src))
    if case.get("time_steps"):
        steps = []
        for t in out["timesteps"]:
            at = ForceTime(Input=src, ForcedTime=t, IgnorePipelineTime=1)  # noqa: F405
            steps.append(dump_dataset(servermanager.Fetch(at)))
            Delete(at)  # noqa: F405
        out["steps"] = steps
    if case.get("phase_legend") is not None:
        leg = EVXPhaseLegend(Input=src, **case["phase_legend"])  # noqa: F405
        leg.UpdatePipeline()
        out["legend_data"] = dump_dataset(servermanager.Fetch(leg))
    result[case["id"]] = out
write_json(result_path, result)
log("done")
