"""ElectroVox ParaView plugin: every ``EVX ...`` source, reader and filter, generated from one table.

Thin by design: names, menus and documentation only.  The work is done by the VTK algorithms in
``filters/vtk/`` (usable without ParaView); each property's XML (label with unit, range,
enumeration or check-box list of phases, tooltip, advanced flag) comes from the concept's
parameter declaration (:mod:`electrovox.params`), the same one the CLI and the docs use, so
names and defaults cannot drift apart.  Properties are emitted in the declared order (required
ones first), without ParaView's developer "Reload Python Module" button.

Menus: ParaView's ``ShowInMenu`` categories are flat (no sub-menus from a plugin in 5.11-5.13),
so the groups are sibling categories "ElectroVox Image", "ElectroVox Quantify", "ElectroVox
Transport", "ElectroVox Phantoms" in Filters, and "ElectroVox" in Sources.

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

from electrovox.filters.vtk import flow_tortuosity, image, phantoms, phase_legend, quantify, readers, transport
from electrovox.params import _esc

paraview_plugin_name = "ElectroVox"
paraview_plugin_version = electrovox.__version__

# name, VTK algorithm, menu (None: a reader), documentation, output views {port: view type}
_IMAGE, _QUANT, _TRANS, _PHANT, _SRC = ("ElectroVox Image", "ElectroVox Quantify", "ElectroVox Transport",
                                        "ElectroVox Phantoms", "ElectroVox")
PROXIES = [
    ("EVXPhaseLegend", phase_legend.PhaseLegend, _IMAGE,
     "Attaches the phase legend of a label volume to its field data (legend JSON, phase ids, names, display "
     "names, colours, volume fractions, annotation pairs) for colour maps, annotations and scripts. The voxels "
     "are not copied.", {}),
    ("EVXSegment", image.SegmentFilter, _IMAGE,
     "Segments a greyscale FIB-SEM / CT image into pore, CBD, active material and cracks: curtaining and drift "
     "correction, denoising, pore-back correction, mixture grey levels, markers + watershed, cracks enclosed by "
     "particles. Output: 'labels' (default legend) and 'pore_back_corrected'.", {}),
    ("EVXImageStep", image.ImageStepFilter, _IMAGE,
     "One FIB-SEM image correction: curtaining removal, drift normalisation, slice alignment, denoising or "
     "pore-back correction; output 'image' (float32) on the same grid.", {}),
    ("EVXResample", image.ResampleFilter, _IMAGE,
     "Resamples an image (interpolation) or a label volume (majority) to cubic voxels.", {}),
    ("EVXFindCracks", image.CracksFilter, _IMAGE,
     "Relabels dark regions enclosed by particles (active material) as 'crack'.", {}),
    ("EVXQuantify", quantify.QuantifyFilter, _QUANT,
     "All metrics of a label volume: phase fractions, crack fraction of particles, interface areas and specific "
     "surfaces, particle-CBD contact, CBD aggregates, electronically isolated active material, dead pores "
     "(output 0, a table in a spreadsheet view), and the phase-fraction profiles along the thickness (output 1, "
     "a line chart).", {0: "SpreadSheetView", 1: "XYChartView"}),
    ("EVXConnectedComponents", quantify.ComponentsFilter, _QUANT,
     "Connected components of one phase: point array component_id (0 outside the phase; colour it with a "
     "categorical map) and a field-data summary (count, largest share, percolation).", {}),
    ("EVXRepresentativeVolume", quantify.RepresentativeVolumeFilter, _QUANT,
     "Metrics (phase fractions, crack fraction, largest CBD aggregate share) on growing centred or random "
     "sub-volumes, with mean and spread per size: a table for a line chart against edge_um.",
     {0: "SpreadSheetView"}),
    ("EVXCompare", quantify.CompareFilter, _QUANT,
     "Every metric of two or more label volumes (e.g. pristine, cycled 4.4 V, cycled 4.7 V) and its relative "
     "change against the first input, as one table.", {0: "SpreadSheetView"}),
    ("EVXTortuosity", transport.TortuosityFilter, _TRANS,
     "Tortuosity factor of the chosen phases by steady-state conduction (finite volumes, harmonic face "
     "conductances): output 0 the potential and flux fields along Axis, output 1 a table of porosity, D_eff, "
     "tau and MacMullin number per axis. Conductivities 'am=10,cbd=1' solve the electronic network.",
     {1: "SpreadSheetView"}),
    ("EVXFlowTortuosity", flow_tortuosity.FlowTortuosityFilter, _TRANS,
     "Flow tortuosity of a Stokes velocity field (absolute-permeability simulation, e.g. from OpenFOAM, Avizo, "
     "GeoDict): tau = sum |V| / |sum V_i| over the flowing points, i the mean-flow direction (Zhang, Chouchane "
     "et al., Joule 2023). Cell data of a mesh is weighted by cell volume. Output: a table (Metric, Value).",
     {0: "SpreadSheetView"}),
    ("EVXCyclingTransform", phantoms.CyclingFilter, _PHANT,
     "Replays cycling damage on a label volume: crack volume grows by Crack growth (relative), the active "
     "material-CBD contact area drops by Contact loss (relative). The achieved changes are in the field data "
     "'cycling_report'.", {}),
    ("EVXFIBSEMImagePhantom", phantoms.FibsemImageFilter, _PHANT,
     "Renders a PFIB-SEM-like greyscale stack from a label volume (grey levels, grain and CBD texture, "
     "anisotropic blur, noise at a given SNR, curtaining, drift, pore-back) on its own voxel grid, with the "
     "exact labels on that grid as 'truth'.", {}),
    ("EVXElectrodePhantom", phantoms.ElectrodePhantomSource, _SRC,
     "A synthetic labelled NMC cathode with known truth: polydisperse secondary particles packed with "
     "calendering overlap, cracks inside particles, carbon-binder domain at necks and on surfaces (slurry or dry "
     "morphology). Outputs labels (default legend) and particle ids.", {}),
    ("EVXTIFFStackReader", readers.TiffStackReader, None,
     "Reads a (multi-page) TIFF stack as an image volume in micrometres. Give the voxel size when the file "
     "stores none, and a legend for a label volume.", {}),
    ("EVXnetCDFReader", readers.NetCDFReader, None,
     "Reads an ElectroVox netCDF4 file (dimensions z, y, x in micrometres; labels with their legend, or "
     "greyscale) as an image volume.", {}),
]

#: the label users see: the proxy name with a space after "EVX" (paraview.simple's function name is
#: the label without spaces, i.e. the proxy name)
_LABELS = {"EVXFIBSEMImagePhantom": "EVX FIBSEM Image Phantom", "EVXTIFFStackReader": "EVX TIFF Stack Reader",
           "EVXnetCDFReader": "EVX netCDF Reader"}
_READERS = {"EVXTIFFStackReader": ("tif tiff", "ElectroVox TIFF stack"),
            "EVXnetCDFReader": ("nc", "ElectroVox netCDF")}


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
    hints = [f'<ShowInMenu category="{menu}"/>'] if menu else []
    hints += [f'<View type="{view}" port="{port}"/>' for port, view in views.items()]
    if menu is None:
        ext, desc = _READERS[name]
        hints.append(f'<ReaderFactory extensions="{ext}" file_description="{_esc(desc)}"/>')
    cls = type(name, (algorithm,), {"__module__": __name__, "__doc__": doc,
                                    "_pvsm_property_xmls": props, "_pvsm_hints_xmls": hints})
    group = "sources" if (menu is None or not algorithm.inputs) else "filters"
    decorate = smproxy.source(name=name, label=_label(name), group=group, support_reload=False)
    globals()[name] = decorate(cls)


for _entry in PROXIES:
    _register(*_entry)
del _entry
