"""The ``memae`` command line: ``main(argv) -> exit code``, one module per subcommand.

Each subcommand module exposes ``add_parser(subparsers)`` (which sets
``handler`` on its parser) and is listed in :data:`SUBCOMMANDS`. Errors a
user can fix print one line (``memae: error: ...``) and exit 2; ``--debug``
shows the traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from memae._version import __version__

# Module names under memae.cli, in the order ``memae --help`` lists them.
SUBCOMMANDS: tuple[str, ...] = ("train", "score", "evaluate", "report", "export", "demo",
                                 "benchmark", "select", "score-video", "evaluate-video",
                                 "presets")

# OSError covers missing files, permissions and a full disk; FloatingPointError is a
# diverged training run (its message says how to fix it).
USER_ERRORS = (ValueError, TypeError, OSError, ImportError, FloatingPointError)


def build_parser() -> argparse.ArgumentParser:
    """The ``memae`` argument parser, with one subparser per entry of :data:`SUBCOMMANDS`."""
    parser = argparse.ArgumentParser(
        prog="memae",
        description="Memory-augmented autoencoders (MemAE) for unsupervised anomaly detection.",
    )
    parser.add_argument("--version", action="version", version=f"memae {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bars or logs")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        importlib.import_module(f"memae.cli.{name.replace('-', '_')}").add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    logging.basicConfig(level=logging.ERROR if args.quiet else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.handler(args) or 0)
    except USER_ERRORS as error:
        if args.debug:
            raise
        message = " ".join(str(error).split()) or type(error).__name__
        print(f"memae: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("memae: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
