"""One error type for user mistakes: the CLI prints it as `where: problem; fix` and exits 2."""

from __future__ import annotations


class UserError(Exception):
    """A problem the user can fix (bad file, bad config, missing model), never a bug.

    `problems` holds one line per problem so validators can report all of them at once.
    """

    def __init__(self, problems: str | list[str]):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


def located(path: object, line: int | None, problem: str, fix: str = "") -> str:
    """Format one problem as `path:line: problem; fix`, the form every validator uses."""
    where = f"{path}:{line}" if line is not None else f"{path}"
    return f"{where}: {problem}" + (f"; {fix}" if fix else "")
