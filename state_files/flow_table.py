"""The study's Table S1 for the sample: permeability and flow tortuosity, pristine and cycled.

    python state_files/flow_table.py OUT.csv NAME=RESULT.json ...

Reads the ``electrovox permeability --json`` results (one per volume and axis) and writes one CSV
row each (volume, axis, k in m^2 and millidarcy, flow tortuosity, porosity, steps, converged),
atomically, and prints the table.
"""

import csv
import json
import os
import sys


def main(argv):
    """Write the table from ``NAME=RESULT.json`` arguments into ``argv[0]``."""
    out, pairs = argv[0], argv[1:]
    rows = []
    for pair in pairs:
        name, _, path = pair.partition("=")
        with open(path) as f:
            r = json.load(f)
        rows.append({"volume": name, "axis": r["axis"], "permeability_m2": f"{r['permeability_m2']:.5e}",
                     "permeability_mD": f"{1e3 * r['permeability_darcy']:.4f}",
                     "flow_tortuosity": "" if r["flow_tortuosity"] is None else f"{r['flow_tortuosity']:.4f}",
                     "porosity": f"{r['porosity']:.4f}", "steps": r["steps"], "converged": r["converged"]})
    tmp = out + ".part"
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    os.replace(tmp, out)
    print(f"{'volume':24s} axis  k (m^2)       k (mD)   flow tortuosity  porosity  converged")
    for r in rows:
        print(f"{r['volume']:24s} {r['axis']:4s}  {r['permeability_m2']:12s}  {r['permeability_mD']:7s}  "
              f"{r['flow_tortuosity']:15s}  {r['porosity']:8s}  {r['converged']}")
    print(f"flow_table: wrote {out}")


if __name__ == "__main__":
    main(sys.argv[1:])
