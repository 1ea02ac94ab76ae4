"""pvbatch under MPI (mpiexec -n N bin/electrovox-pvbatch --mpi ...): the TIFF reader and
EVXPhaseLegend in a distributed pipeline; each process's piece is fetched and written as JSON.

usage: mpi_phase_legend.py LABELS.tif RESULT.json MODE
  MODE strip: drop the field array 'metadata' before the fetch (see test_paraview.py: VTK's
              legacy serialisation, used to move data between processes, loses/garbles it)
  MODE raw:   fetch everything
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _pvtest import dump_dataset, write_json  # noqa: E402
from paraview import servermanager  # noqa: E402
from paraview.simple import EVXPhaseLegend, EVXTIFFStackReader, PassArrays  # noqa: E402

tif, result_path, mode = sys.argv[1], sys.argv[2], sys.argv[3]
reader = EVXTIFFStackReader(FileName=tif, VoxelSize=[0.5, 0.5, 2.0], Legend="0=pore,1=am,2=cbd")
legend = EVXPhaseLegend(Input=reader)
legend.UpdatePipeline()
keep = ["legend", "phase_ids", "phase_names", "phase_fractions", "phase_annotations"]
src = legend
if mode == "strip":
    src = PassArrays(Input=legend, PointDataArrays=["labels"], FieldDataArrays=keep)
nprocs = servermanager.vtkProcessModule.GetProcessModule().GetNumberOfLocalPartitions()
result = {"processes": nprocs, "points": legend.GetDataInformation().GetNumberOfPoints(),
          # each process's piece (Fetch(proxy, rank)): ParaView would append image pieces into an
          # unstructured grid, so the test puts the pieces together by their extents
          "pieces": [dump_dataset(servermanager.Fetch(src, rank)) for rank in range(nprocs)]}
write_json(result_path, result)
