"""The generated docs are current: docs/cli.md equals the parser's help and every parameter table
equals its declaration (electrovox.params), so names, defaults and help cannot drift apart."""

from __future__ import annotations

from electrovox.docs import generate, param_sets


def test_generated_docs_are_current():
    stale = [str(p) for p, content in generate().items() if not p.is_file() or p.read_text() != content]
    assert not stale, f"regenerate with `python -m electrovox.docs`: {stale}"


def test_every_declared_flag_is_in_the_cli_reference():
    from electrovox.docs import ROOT
    text = (ROOT / "docs" / "cli.md").read_text()
    for ps in param_sets().values():
        for p in ps:
            if p.cli_flag:
                assert p.cli_flag in text, (ps.concept, p.cli_flag)


def test_cli_help_lists_every_command_with_one_line():
    from electrovox.cli import build_parser
    help_text = build_parser().format_help()
    for cmd in ("info", "convert", "phantom", "segment", "filter", "resample", "cracks", "quantify", "compare",
                "rev", "tortuosity", "flow-tortuosity"):
        assert f"    {cmd}" in help_text, cmd
    assert "read, convert, inspect" not in help_text
