"""The ``electrovox`` command line: one module per command group.

- :mod:`~electrovox.cli.main`: the entry point, ``info`` and ``convert``;
- :mod:`~electrovox.cli.phantoms`: ``phantom electrode | cycle | image``;
- :mod:`~electrovox.cli.image`: ``segment``, ``filter``, ``resample``, ``cracks``;
- :mod:`~electrovox.cli.quantify`: ``quantify``, ``compare``, ``rev``;
- :mod:`~electrovox.cli.transport`: ``tortuosity``, ``flow-tortuosity``;
- :mod:`~electrovox.cli.flow`: ``permeability``;
- :mod:`~electrovox.cli.impregnate`: ``impregnate`` (electrolyte filling over time);
- :mod:`~electrovox.cli.discharge`: ``discharge``;
- :mod:`~electrovox.cli.echem`: ``params show | export | check`` (the discharge model's parameters);
- :mod:`~electrovox.cli.common`: helpers shared by all of them.

Options come from the concepts' parameter declarations (:mod:`electrovox.params`); nothing on
this path imports VTK.  Exit status: 0 success, 2 bad input (one line naming the file, the
problem and the fix), 1 internal error.
"""


def main(argv=None) -> int:
    """Run ``electrovox`` with ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    from electrovox.cli.main import main as _main
    return _main(argv)


def build_parser():
    """The ``electrovox`` argument parser (used by ``docs/cli.md``'s generator)."""
    from electrovox.cli.main import build_parser as _build
    return _build()
