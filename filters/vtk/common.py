"""Helpers shared by ElectroVox's VTK algorithms: error lines, VTK arrays from Python values, field data.

Only VTK's own Python modules (``vtkmodules``) are used, so the algorithms run in ParaView's VTK
(Debian's ParaView) and in the ``vtk`` wheel of the pip runtime alike.
"""

from __future__ import annotations

from vtkmodules.vtkCommonCore import vtkDoubleArray, vtkIntArray, vtkOutputWindow, vtkStringArray


def report_error(source: str, message: str) -> None:
    """Report an error the VTK way, one line, no traceback.

    Report an error the VTK way (vtkErrorMacro's channel): ParaView's Output Messages window,
    stderr in pvpython/pvbatch and plain VTK.  No traceback.
    """
    vtkOutputWindow.GetInstance().DisplayErrorText(f"ERROR: {source}: {message}\n")


def report_warning(source: str, message: str) -> None:
    """Report a warning the VTK way (ParaView's Output Messages window)."""
    vtkOutputWindow.GetInstance().DisplayWarningText(f"Warning: {source}: {message}\n")


def string_array(name: str, values) -> vtkStringArray:
    """A vtkStringArray named ``name`` holding ``values`` as text."""
    arr = vtkStringArray()
    arr.SetName(name)
    for v in values:
        arr.InsertNextValue(str(v))
    return arr


def int_array(name: str, values) -> vtkIntArray:
    """A vtkIntArray named ``name`` holding ``values``."""
    arr = vtkIntArray()
    arr.SetName(name)
    for v in values:
        arr.InsertNextValue(int(v))
    return arr


def double_array(name: str, rows, components: int = 1) -> vtkDoubleArray:
    """A vtkDoubleArray named ``name`` with ``components`` components per row."""
    arr = vtkDoubleArray()
    arr.SetName(name)
    arr.SetNumberOfComponents(components)
    for row in rows:
        if components == 1:
            arr.InsertNextValue(float(row))
        else:
            arr.InsertNextTuple([float(x) for x in row])
    return arr


def field_string(data, name: str) -> str | None:
    """The first value of a field-data text array, or None.

    The first value of field-data array ``name`` (a string array, or a char array as some
    writers store text) of a vtkDataObject, or None when absent.
    """
    fd = data.GetFieldData() if data is not None else None
    arr = fd.GetAbstractArray(name) if fd is not None else None
    if arr is None or arr.GetNumberOfTuples() == 0:
        return None
    if isinstance(arr, vtkStringArray):
        return str(arr.GetValue(0))
    if arr.GetDataTypeAsString() in ("char", "signed char", "unsigned char"):
        n = arr.GetNumberOfValues()
        return bytes(int(arr.GetValue(i)) & 0xFF for i in range(n)).decode("utf-8", "replace").rstrip("\0")
    return str(arr.GetVariantValue(0).ToString())
