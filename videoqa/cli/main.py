"""Entry point: parse, dispatch, and turn every failure into one line and a non-zero exit code."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import NoReturn

from videoqa.api import VideoQA
from videoqa.errors import VideoQAError
from videoqa.inputs import check_text
from videoqa.settings import STORE_ENV, Settings

from . import ask, clip, doctor, eval, index, mcp, remove, search, serve, verify
from .output import error


def _add_common(parser: argparse.ArgumentParser, suppress: bool) -> None:
    # Accepted before or after the command; on subcommands the defaults are suppressed so a value given
    # before the command is not overwritten.
    default = (lambda value: argparse.SUPPRESS) if suppress else (lambda value: value)
    parser.add_argument("--store", default=default(None), help=f"store directory (default: ${STORE_ENV} or the user cache dir)")
    parser.add_argument("--json", action="store_true", default=default(False), help="print one JSON document on stdout")
    parser.add_argument("-q", "--quiet", action="store_true", default=default(False), help="no progress output")
    parser.add_argument("--debug", action="store_true", default=default(False), help="show tracebacks and debug logs")


class OneLineParser(argparse.ArgumentParser):
    """A usage error is one line naming the problem and where the help is, like every other error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"videoqa: {self.prog.removeprefix('videoqa ')}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="videoqa", description="Question answering over long videos.")
    _add_common(parser, suppress=False)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (index, search, ask, clip, eval, serve, mcp, doctor, remove, verify):
        module.add_commands(commands)
    for sub in commands.choices.values():
        _add_common(sub, suppress=True)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        # Settings first (environment, .env, then this command's flags) and the question: a bad value stops
        # before the store opens or a video is indexed.
        if getattr(args, "question", None) is not None:
            args.question = check_text(args.question)
        settings = Settings().with_store(args.store)
        if hasattr(args, "configure"):
            settings = args.configure(settings, args)
        with VideoQA(settings=settings) as vqa:
            return args.run(vqa, args)
    except VideoQAError as exc:
        error(str(exc))
        return 1
    except BrokenPipeError:  # the reader of our output went away (e.g. `| head`): nothing to say
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        error("interrupted. Nothing committed is lost: run the same command again to resume.")
        return 130
    except Exception as exc:  # the last line of defence: one line, not a traceback
        if args.debug:
            raise
        error(f"unexpected error: {type(exc).__name__}: {exc}. Rerun with --debug for details, and please report it.")
        return 2


if __name__ == "__main__":
    sys.exit(main())
