"""pvpython/pvbatch: is the ElectroVox plugin loaded, and what does ParaView know of it?

usage: load_plugin.py MODE RESULT.json
  MODE auto:       the launcher's PV_PLUGIN_PATH loaded it at start-up
  MODE loadplugin: it is not loaded yet (EVX_NO_PLUGIN_AUTOLOAD=1);
                   LoadPlugin(path, remote=False, ns=globals()) loads it
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _pvtest import PLUGIN, write_json  # noqa: E402
from paraview import servermanager  # noqa: E402
from paraview.simple import *  # noqa: E402,F403

mode, result_path = sys.argv[1], sys.argv[2]
NAMES = ("EVXTIFFStackReader", "EVXnetCDFReader", "EVXPhaseLegend")
result = {"mode": mode, "before": {n: n in globals() for n in NAMES},
          "pv_plugin_path": os.environ.get("PV_PLUGIN_PATH", "")}
if mode == "loadplugin":
    LoadPlugin(PLUGIN, remote=False, ns=globals())  # noqa: F405
result["after"] = {n: n in globals() for n in NAMES}

# the proxies exist and carry their properties
made = {}
for name in ("EVXTIFFStackReader", "EVXnetCDFReader"):
    proxy = globals()[name]()
    made[name] = {"xml_name": proxy.GetXMLName(), "properties": sorted(proxy.ListProperties())}
src = Wavelet()  # noqa: F405
leg = EVXPhaseLegend(Input=src)  # noqa: F405
made["EVXPhaseLegend"] = {"xml_name": leg.GetXMLName(), "properties": sorted(leg.ListProperties())}
result["proxies"] = made

# the reader factory: the Open dialog's file types, and who reads a .tif / .nc
rf = servermanager.vtkSMProxyManager.GetProxyManager().GetReaderFactory()
rf.UpdateAvailableReaders()
session = servermanager.ActiveConnection.Session
types = rf.GetSupportedFileTypes(session) or ""
result["file_types"] = [t for t in types.split(";;") if "ElectroVox" in t]
result["python_module"] = sys.modules["ElectroVox"].__file__ if "ElectroVox" in sys.modules else None
write_json(result_path, result)
