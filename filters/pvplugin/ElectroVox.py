"""ElectroVox ParaView plugin: every ``EVX ...`` source, reader and filter, generated from one table.

Thin by design: names, menus and documentation only.  The work is done by the VTK algorithms in
``filters/vtk/`` (usable without ParaView); each property's XML (label with unit, range,
enumeration or check-box list of phases, tooltip, advanced flag) comes from the concept's
parameter declaration (:mod:`electrovox.params`), the same one the CLI and the docs use, so
names and defaults cannot drift apart.  Properties are emitted in the declared order (required
ones first), without ParaView's developer "Reload Python Module" button.

Menus: ParaView's ``ShowInMenu`` categories are flat (no sub-menus from a plugin in 5.11-5.13),
so the groups are sibling categories "ElectroVox Image", "ElectroVox Quantify", "ElectroVox
Transport", "ElectroVox Flow", "ElectroVox Phantoms" in Filters, and "ElectroVox" in Sources.

Loading: ``bin/electrovox-paraview`` / ``-pvbatch`` / ``-pvpython`` put this folder on
PV_PLUGIN_PATH (ParaView loads every .py file there, so this file stays alone in it), or in a
script ``LoadPlugin("<checkout>/filters/pvplugin/ElectroVox.py", remote=False, ns=globals())``.
Then, in ``paraview.simple``: ``OpenDataFile("x.nc")``, ``EVXSegment(Input=...)``, ...
"""

import os
import sys

try:
    import electrovox  # noqa: F401
except ImportError:  # loaded by path without the launchers' PYTHONPATH: use this checkout
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    import electrovox  # noqa: F401

from paraview.util.vtkAlgorithm import smproxy

from electrovox.filters.vtk.base import EVXAlgorithm
from electrovox.filters.vtk.registry import PROXIES
from electrovox.params import _esc

paraview_plugin_name = "ElectroVox"
paraview_plugin_version = electrovox.__version__

#: the label users see: the proxy name with a space after "EVX" (paraview.simple's function name is
#: the label without spaces, i.e. the proxy name)
_LABELS = {"EVXFIBSEMImagePhantom": "EVX FIBSEM Image Phantom", "EVXTIFFStackReader": "EVX TIFF Stack Reader",
           "EVXnetCDFReader": "EVX netCDF Reader"}
_READERS = {"EVXTIFFStackReader": ("tif tiff", "ElectroVox TIFF stack"),
            "EVXnetCDFReader": ("nc", "ElectroVox netCDF"),
            "EVXRunFolderReader": ("json", "ElectroVox run folder (params.json)")}
#: readers that open one file name only (ParaView's filename_patterns)
_PATTERNS = {"EVXRunFolderReader": "params.json"}
#: output ports a render view draws as text (a vtkTable whose first cell is the text): the run
#: folder's history at the animation time, whose first column is the time annotation
_TEXT_PORTS = {"EVXRunFolderReader": (2,)}


def _label(name: str) -> str:
    import re
    return _LABELS.get(name) or "EVX " + re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name[3:])


def _input_xml(algorithm) -> str:
    multiple = ' multiple_input="1"' if algorithm.repeatable_input else ""
    command = "AddInputConnection" if algorithm.repeatable_input else "SetInputConnection"
    clean = ' clean_command="RemoveAllInputs"' if algorithm.repeatable_input else ""
    return (f'<InputProperty name="Input" command="{command}"{clean} port_index="0"{multiple}>'
            '<ProxyGroupDomain name="groups"><Group name="sources"/><Group name="filters"/></ProxyGroupDomain>'
            f'<DataTypeDomain name="input_type" composite_data_supported="0"><DataType value="{algorithm.inputs[0]}"/>'
            '</DataTypeDomain><Documentation>The input (a label volume, an image or a velocity field).'
            '</Documentation></InputProperty>')


def _file_xml(extensions: str, description: str) -> str:
    return ('<StringVectorProperty name="FileName" command="SetFileName" number_of_elements="1" '
            'panel_visibility="never"><FileListDomain name="files"/>'
            f'<Hints><FileChooser extensions="{extensions}" file_description="{_esc(description)}"/></Hints>'
            '<Documentation>The file to read.</Documentation></StringVectorProperty>')


def _register(name, algorithm, menu, doc, views):
    props = [f"<Documentation>{_esc(doc)}</Documentation>"]
    if algorithm.inputs:
        props.append(_input_xml(algorithm))
    if name in _READERS:
        props.append(_file_xml(*_READERS[name]))
    props += [p.pv_xml() for p in algorithm.params if p.pv_name]
    if algorithm.time_steps is not EVXAlgorithm.time_steps:  # a time series: the animation sees its steps
        props.append('<DoubleVectorProperty name="TimestepValues" information_only="1" '
                     'si_class="vtkSITimeStepsProperty"/>')
    hints = [f'<ShowInMenu category="{menu}"/>'] if menu else []
    hints += [f'<View type="{view}" port="{port}"/>' for port, view in views.items()]
    hints += [f'<OutputPort index="{port}" name="Output-{port}" type="text"/>' for port in _TEXT_PORTS.get(name, ())]
    if menu is None:
        ext, desc = _READERS[name]
        pattern = f' filename_patterns="{_PATTERNS[name]}"' if name in _PATTERNS else f' extensions="{ext}"'
        hints.append(f'<ReaderFactory{pattern} file_description="{_esc(desc)}"/>')
    cls = type(name, (algorithm,), {"__module__": __name__, "__doc__": doc,
                                    "_pvsm_property_xmls": props, "_pvsm_hints_xmls": hints})
    group = "sources" if (menu is None or not algorithm.inputs) else "filters"
    decorate = smproxy.source(name=name, label=_label(name), group=group, support_reload=False)
    globals()[name] = decorate(cls)


for _entry in PROXIES:
    _register(*_entry)
del _entry
