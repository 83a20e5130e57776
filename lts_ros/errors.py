"""One exception type for mistakes a user can fix (bad config, missing file, bad argument), and the way every
command line entry point reports them."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable


class LtsError(Exception):
    """A user-facing error: the CLI prints its message on one line, without a traceback."""


def run_command(prog: str, body: Callable[[], int | None]) -> int:
    """Run a command's ``body``: an LtsError is one line on stderr and exit status 2, Ctrl-C exit 130."""
    try:
        return body() or 0
    except LtsError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130


class OneLineParser(argparse.ArgumentParser):
    """Usage mistakes as one line on stderr and exit status 2 (``--help`` shows the usage)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")
