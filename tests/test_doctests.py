"""Every docstring example in the package runs and gives what it shows (numpydoc ``Examples``).

Reference: the examples' own printed output.  Modules that need ParaView (the plugin, the display
helpers) are left out; VTK modules run where VTK is installed (both runtimes have it).
"""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

SKIP = ("electrovox.filters.pvplugin", "electrovox.filters.pv_display", "electrovox.__main__")


ROOT = Path(__file__).resolve().parent.parent
#: the checkout's folders and the package each one is mapped to (pyproject.toml's package-dir)
FOLDERS = {"electrovox": "electrovox", "filters": "electrovox.filters", "solvers": "electrovox.solvers",
           "io": "electrovox.io"}


def _modules():
    names = []
    for folder, package in FOLDERS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT / folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            name = ".".join([package, *parts])
            if not name.startswith(SKIP):
                names.append(name)
    return sorted(set(names))


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(module, name):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
