"""ElectroVox: battery-electrode microstructures in ParaView, VTK, PyVista and the CLI.

Sub-packages (design card): ``electrovox.io`` (readers/writers), ``electrovox.filters``
(VTK algorithms and the ParaView plugin), ``electrovox.solvers`` (numerical cores).
The core data model is :class:`electrovox.volume.Volume`.
"""

from pathlib import Path as _Path

__version__ = "0.1.0"

# In a source checkout the sub-packages filters/, solvers/ and io/ sit at the top level (the
# design card's layout), beside this folder.  Searching the checkout root for sub-modules makes
# `electrovox.io` resolve to <root>/io without ever putting <root>/io on sys.path as a bare `io`.
# An installed (non-editable) copy has them inside this folder and needs nothing.
_root = _Path(__file__).resolve().parent.parent
if not (_Path(__file__).parent / "io").is_dir() and (_root / "io" / "__init__.py").is_file():
    __path__.append(str(_root))  # noqa: F821  (module __path__ of a package)

from electrovox.errors import BadInput  # noqa: E402
from electrovox.volume import Volume  # noqa: E402

__all__ = ["BadInput", "Volume", "__version__"]
