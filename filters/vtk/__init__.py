"""ElectroVox's VTK algorithms: one module per concept, all on :class:`~electrovox.filters.vtk.base.EVXAlgorithm`.

Usable in plain VTK and PyVista pipelines (no ParaView needed); the ParaView plugin
(``filters/pvplugin/ElectroVox.py``) exposes each as an ``EVX ...`` proxy.  Nothing here is
imported on the CLI path.
"""
