"""Errors a user can act on.

``BadInput`` is raised for any problem with the user's files or arguments.  Its message is one
line that names the file, the problem and the fix; the CLI prints it and exits with status 2.
"""


class BadInput(ValueError):
    """Bad input: names the file (or argument), what is wrong, and how to fix it."""

    def __init__(self, source, problem: str, fix: str):
        self.source = str(source)
        self.problem = problem.rstrip(".")
        self.fix = fix.rstrip(".")
        super().__init__(f"{self.source}: {self.problem}. Fix: {self.fix}.")

    def one_line(self) -> str:
        """The message on one line (what the CLI prints and ParaView shows)."""
        return " ".join(str(self).split())
