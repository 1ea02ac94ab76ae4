"""Progress reporting shared by the numerical cores, the CLI and the VTK algorithms.

A core function takes ``progress=None`` or a callable ``progress(fraction, message=None)`` with
``fraction`` in [0, 1].  The CLI passes :func:`cli_bar` (a bar on stderr); a VTK algorithm
passes its own ``UpdateProgress``.
"""

from __future__ import annotations

import sys
import time


def report(progress, fraction: float, message: str | None = None) -> None:
    """Call ``progress(fraction, message)`` when a callback is given (fraction clipped to [0, 1])."""
    if progress is not None:
        progress(min(max(float(fraction), 0.0), 1.0), message)


class cli_bar:
    """A progress bar on stderr (tqdm when installed), used as a callable and a context manager."""

    def __init__(self, desc: str, quiet: bool = False):
        self.quiet = quiet
        self._bar = None
        self._last = 0
        if not quiet:
            try:
                from tqdm import tqdm
                # delay: work that ends within a second (or fails at once on bad input) shows no
                # bar, so an error stays the one line on stderr that scripts can read
                # elapsed<remaining: a run of an hour says when it will end
                fmt = "{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}{postfix}"
                self._bar = tqdm(total=1000, desc=desc, file=sys.stderr, leave=False, delay=1.0,
                                 mininterval=0.5, bar_format=fmt)
            except ImportError:
                self._desc = desc
                self._t0 = time.monotonic()

    def __call__(self, fraction: float, message: str | None = None) -> None:
        """Advance the bar to ``fraction`` (0..1), with an optional message."""
        if self.quiet:
            return
        n = int(round(1000 * fraction))
        if self._bar is not None:
            if n > self._last:
                self._bar.update(n - self._last)
                self._last = n
            if message:
                self._bar.set_postfix_str(message, refresh=False)
        elif n - self._last >= 100 and time.monotonic() - self._t0 > 1.0:
            self._last = n
            print(f"{self._desc}: {n // 10}%", file=sys.stderr)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self._bar is not None:
            self._bar.close()
        return False
