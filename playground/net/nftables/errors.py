"""The one line nft prints when it refuses an input."""

from __future__ import annotations


class NftError(ValueError):
    """What nft says, as its first line: `FILE:LINE:COLS: Error: WHY` for input it
    parsed, `Error: WHY` for a command line; nothing of the transaction was applied."""

    def __init__(self, why: str, source: str = "", line: int = 0, start: int = 0,
                 stop: int = 0) -> None:
        self.why = why
        self.where = (source, line, start, stop)
        if source and line:
            text = f"{source}:{line}:{start}-{stop}: Error: {why}"
        else:
            text = f"Error: {why}"
        super().__init__(text)


ENOENT = "No such file or directory"
EEXIST = "File exists"
EBUSY = "Device or resource busy"
EINVAL = "Invalid argument"
EOPNOTSUPP = "Operation not supported"


def kernel(errno_text: str, what: str = "rule") -> str:
    """The sentence nft prints when the kernel refused a command of the batch."""
    return f"Could not process {what}: {errno_text}"
