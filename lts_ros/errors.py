"""One exception type for mistakes a user can fix (bad config, missing file, bad argument)."""


class LtsError(Exception):
    """A user-facing error: the CLI prints its message on one line, without a traceback."""
