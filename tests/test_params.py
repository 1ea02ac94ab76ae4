"""One declaration per parameter: CLI options, VTK setters and errors all follow it.

References: the declarations themselves (electrovox.params and the concepts' params modules) and
argparse's parse of the documented flags; doctests of the entry points' examples run here too.
"""

from __future__ import annotations

import doctest

import pytest

from electrovox import memory, params, phases
from electrovox.docs import param_sets
from electrovox.errors import BadInput


@pytest.mark.parametrize("module", [params, memory, phases])
def test_docstring_examples_run(module):
    res = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.attempted > 0 and res.failed == 0


def test_cli_defaults_equal_the_declarations():
    """Parsing a command with only its required arguments gives the declared defaults."""
    from electrovox.cli import build_parser
    parser = build_parser()
    args = parser.parse_args(["segment", "in.tif", "out.nc"])
    assert args.phases == ("pore", "cbd", "am", "crack") and args.pore_back is None and args.denoise == "default"
    args = parser.parse_args(["segment", "in.tif", "out.nc", "--no-pore-back-correction", "--no-destripe"])
    assert args.pore_back is False and args.destripe is False
    args = parser.parse_args(["phantom", "image", "a.nc", "b.nc", "--seed", "1"])
    assert tuple(args.voxel_nm) == param_sets()["fibsem_image"]["voxel_nm"].default == (15.2, 15.2, 100.0)
    # the resample flag's one spelling, and its earlier one still accepted
    assert parser.parse_args(["resample", "a", "b", "--resample-um", "0.1"]).resample_um == 0.1
    assert parser.parse_args(["resample", "a", "b", "--to-um", "0.2"]).resample_um == 0.2


def test_vtk_setters_follow_the_declarations():
    pytest.importorskip("vtkmodules")
    from electrovox.filters.vtk.registry import proxy_table
    for name, (algorithm, _menu) in proxy_table().items():
        alg = algorithm()
        for p in algorithm.params:
            if p.pv_name:
                assert hasattr(alg, p.setter), (name, p.setter)
                if p.kind not in ("phases",):
                    assert alg.get_param(p.name) == p.coerce(p.default), (name, p.name)


def test_errors_speak_each_front_ends_language():
    ps = param_sets()["tortuosity"]
    e = BadInput("cbd_factor", "-2 is negative", "give cbd_factor >= 0")
    assert ps.translate(e, "cli").one_line() == "--cbd-factor: -2 is negative. Fix: give --cbd-factor >= 0."
    assert ps.translate(e, "paraview").one_line() == "CBDFactor: -2 is negative. Fix: give CBDFactor >= 0."
    with pytest.raises(BadInput, match="flux_tol"):
        ps.check({"flux_tol": 5.0})  # the declared range is [1e-12, 0.1]


def test_memory_refusal_names_both_numbers(monkeypatch):
    monkeypatch.setenv("EVX_MEMORY_LIMIT_GB", "1")
    with pytest.raises(BadInput) as exc:
        memory.require(64e9, "size_um", "a 64 G voxel box", "use a larger voxel_um")
    text = exc.value.one_line()
    assert "64 GB" in text and "0.8 GB is available" in text
