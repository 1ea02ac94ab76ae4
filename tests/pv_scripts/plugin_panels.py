"""pvpython: the ElectroVox proxies as ParaView defines them (menus, property order, labels, tooltips).

usage: plugin_panels.py RESULT.json
Writes, per EVX proxy: its group, ShowInMenu category, View hints, and its properties in XML
order (name, label, panel visibility, whether it has documentation and a domain).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _pvtest import write_json  # noqa: E402
from paraview import servermanager  # noqa: E402
from paraview.simple import *  # noqa: E402,F403

result = {}
pdm = servermanager.ProxyManager().GetProxyDefinitionManager()
pxm = servermanager.ProxyManager()
for group in ("sources", "filters"):
    it = pdm.NewSingleGroupIterator(group)
    it.GoToFirstItem()
    while not it.IsDoneWithTraversal():
        name = it.GetProxyName()
        if name.startswith("EVX"):
            proto = pxm.SMProxyManager.GetPrototypeProxy(group, name)
            hints = proto.GetHints()
            menus, views = [], {}
            if hints is not None:
                for i in range(hints.GetNumberOfNestedElements()):
                    h = hints.GetNestedElement(i)
                    if h.GetName() == "ShowInMenu":
                        menus.append(h.GetAttribute("category"))
                    if h.GetName() == "View":
                        views[h.GetAttribute("port")] = h.GetAttribute("type")
            # the properties in the definition's (XML) order: the panel's order
            props = []
            xml = pdm.GetProxyDefinition(group, name)
            for i in range(xml.GetNumberOfNestedElements()):
                el = xml.GetNestedElement(i)
                if not el.GetName().endswith("Property") or el.GetAttribute("information_only") == "1":
                    continue
                kids = [el.GetNestedElement(k).GetName() for k in range(el.GetNumberOfNestedElements())]
                doc = el.FindNestedElementByName("Documentation")
                props.append({"name": el.GetAttribute("name"), "label": proto.GetProperty(el.GetAttribute("name"))
                              .GetXMLLabel(), "visibility": el.GetAttribute("panel_visibility") or "default",
                              "doc": bool(doc is not None and (doc.GetCharacterData() or "").strip()),
                              "domain": any(k.endswith("Domain") for k in kids)})
            result[name] = {"group": group, "label": proto.GetXMLLabel(), "menus": menus, "views": views,
                            "properties": props}
        it.GoToNextItem()
write_json(sys.argv[1], result)
