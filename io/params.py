"""Reading options shared by every command and reader, declared once (CLI, ParaView, docs)."""

from electrovox.params import Param, ParamSet

READ = ParamSet("read", [
    Param("voxel_um", "vec3", None, "Voxel size: one value (cubic) or X Y Z along the file's axes; required when "
          "the file carries none, overrides the file's value when given (0 0 0 in ParaView: the file's).",
          unit="um", label="Voxel size", pv="VoxelSize", pv_default=(0.0, 0.0, 0.0), range=(0.0, None),
          metavar="V", aliases=("spacing",)),
    Param("legend", "str", None, "Phase of each label id, e.g. 0=pore,1=am,2=cbd (names: pore, cbd, am, crack, "
          "separator, collector); default: the legend stored in the file, else 0=pore,1=cbd,2=am,3=crack,"
          "4=separator,5=collector.", metavar="ID=NAME,...", pv_default=""),
    Param("thickness_axis", "choice", "z", "The file's axis along the electrode thickness; it becomes z.",
          choices=("z", "y", "x")),
    Param("variable", "str", None, "netCDF variable to read (default: labels, else image).", pv_default="",
          metavar="NAME"),
])
