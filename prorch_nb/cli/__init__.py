"""The ``prorch-nb`` commands: ``demo``, ``status``, ``run`` (a worker), ``send``, ``resume``, ``checkpoint``, ``copy``.

Every command is also callable in-process: ``main(["status", "--db", "runs.json"])``
returns the exit status instead of exiting.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from prorch_nb import __version__
from prorch_nb.cli.by_hand import json_value, resume, send
from prorch_nb.cli.copying import copy
from prorch_nb.cli.demo import demo
from prorch_nb.cli.opening import CliError, Database, checkpoint
from prorch_nb.cli.status import status
from prorch_nb.cli.terminal import Terminal, one_line, replacing_unencodable
from prorch_nb.cli.worker import run
from prorch_nb.exceptions.exceptions import ProrchError

PROG = "prorch-nb"
EXIT_STATUS = """\
exit status:
  0  done; also when Ctrl-C (SIGINT) or SIGTERM stops `run` between passes
  1  `run --fail-on-error`: a run failed or a pass reported errors
  130  a second Ctrl-C interrupted `run` during a pass (the run in progress is
       resumed by the next worker: hooks run at least once)
  2  bad arguments, a missing or unreadable database, a module that does not
     import, a run `send` or `resume` cannot change (one line on stderr
     starting with "prorch-nb: error:")"""

SEND_HELP = "send a signal to a run (an approval, a decision): a step waiting for it wakes"
SEND_DESCRIPTION = (
    "Send VALUE to the run UUID as the signal NAME. The run keeps the last value of each name (its steps read it "
    "with self.receive(NAME)) and its history records the signal; a step that waits (self.wait) wakes at the run's "
    "next tick. A run that has ended takes no signal."
)
RESUME_HELP = "run a failed or cancelled run again, from the step that ended it"
RESUME_DESCRIPTION = (
    "Take the failed or cancelled run UUID back to pending, by hand: the step that ended it is pending again and "
    "runs on_start at the run's next tick (a worker's), its attempts counted anew. Both histories record it. A run "
    "cancelled before it started is refused: create a new one."
)


class _HelpFormatter(argparse.HelpFormatter):
    """Wraps a one-paragraph text to the terminal; keeps a text laid out in lines (the exit statuses) as it is."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors reported on one line and help texts wrapped by :class:`_HelpFormatter`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{PROG}: error: {message} (see {self.prog} --help)\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    What the output's encoding cannot show (a name with glyphs on an ASCII terminal, a
    lone surrogate read from a JSON file) is written as ``?``: output never fails for it.
    """
    with replacing_unencodable(sys.stdout, sys.stderr):
        return _main(argv)


def _main(argv: Sequence[str] | None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        return int(exc.code or 0)
    try:
        return args.handler(args) or 0
    except (CliError, ProrchError, OSError) as exc:
        print(f"{PROG}: error: {one_line(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted during a pass; the next worker resumes its run", file=sys.stderr)
        return 130


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``prorch-nb`` and its subcommands."""
    parser = _Parser(
        prog=PROG,
        description="Run and inspect prorch_nb pipelines stored in a TinyDB file or a SQL database "
        "(PostgreSQL for workers on many hosts, SQLite).",
        epilog=EXIT_STATUS,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)

    command = commands.add_parser(
        "demo",
        help="run the bundled backup pipeline to its end, tick by tick",
        description="Add a new run of the bundled backup automation pipeline to the database (created if needed; "
        "earlier runs are kept), tick it until it ends and print a table of its steps.",
    )
    _database_options(command, default="demo.json")
    command.set_defaults(handler=lambda a: demo(_database(a), Terminal.of(sys.stdout)))

    command = commands.add_parser(
        "status",
        help="show pipelines and their steps",
        description="Show the pipelines stored in the database and their steps. "
        "Colour only on a terminal, never with NO_COLOR set.",
    )
    _database_options(command)
    command.add_argument("--pipeline", metavar="UUID", help="only this pipeline (a unique start of its uuid will do)")
    command.set_defaults(handler=lambda a: print("\n".join(status(_database(a), a.pipeline, Terminal.of(sys.stdout)))))

    command = commands.add_parser(
        "run",
        help="orchestrate pending pipelines (a worker)",
        description="Import MODULE (which registers its pipelines with @register_pipeline), then tick every "
        "pending pipeline in the database, pass after pass, until none is pending or a pass changes nothing; "
        "with --once stop there, else do it again every --interval seconds, or as soon as a waiting run (a timer, a "
        "retry's next attempt) is due, until Ctrl-C or SIGTERM, "
        "which stop the worker between passes (the current one completes) and exit with status 0; "
        "a second Ctrl-C interrupts the pass at once (status 130). Runs left created are counted, "
        "with how to start them.",
        epilog=EXIT_STATUS,
    )
    _database_options(command)
    command.add_argument(
        "--module", required=True, help="a dotted module name importable from the current folder, or a .py file"
    )
    command.add_argument(
        "--interval", type=_seconds, default=5.0, metavar="SECONDS", help="between rounds at most (default 5)"
    )
    command.add_argument("--once", action="store_true", help="one round, then exit")
    command.add_argument("--max-ticks", type=_count, metavar="N", help="at most N passes per round")
    command.add_argument(
        "--fail-on-error",
        action="store_true",
        help="exit with status 1 if a run failed or a pass reported errors (for cron and CI)",
    )
    command.set_defaults(
        handler=lambda a: run(
            _database(a),
            a.module,
            interval=a.interval,
            once=a.once,
            max_ticks=a.max_ticks,
            fail_on_error=a.fail_on_error,
        )
    )

    command = _command_on_a_run(commands, "send", help=SEND_HELP, description=SEND_DESCRIPTION)
    command.add_argument("name", metavar="NAME", help="the signal's name, such as approval")
    command.add_argument(
        "value", metavar="VALUE", help='JSON: \'{"by": "ann", "comment": "ship it"}\', true, 3, \'"a text"\''
    )
    command.add_argument("--text", action="store_true", help="send VALUE as it is, a text (a JSON string)")
    command.add_argument("--note", metavar="TEXT", help="a note for the run's history")
    command.set_defaults(
        handler=lambda a: print(
            send(_database(a), a.uuid, a.name, a.value if a.text else json_value(a.value), note=a.note)
        )
    )

    command = _command_on_a_run(commands, "resume", help=RESUME_HELP, description=RESUME_DESCRIPTION)
    command.add_argument("--note", metavar="TEXT", help="a note for the histories: why it is resumed")
    command.set_defaults(handler=lambda a: print(resume(_database(a), a.uuid, note=a.note)))

    command = commands.add_parser(
        "checkpoint",
        help="fold the journal into the database file",
        description="Fold FILE.journal into FILE, so that programs reading FILE alone see every commit. "
        "If another program changed records the journal changed too, say which version to keep.",
    )
    command.add_argument("--db", required=True, metavar="FILE", help="the database file (must exist)")
    command.add_argument(
        "--keep", choices=["file", "journal"], help="for records changed both in FILE and in the journal"
    )
    command.set_defaults(handler=lambda a: print(checkpoint(Database(a.db), a.keep)))

    command = commands.add_parser(
        "copy",
        help="copy runs from one database to another",
        description="Copy every run of FROM (its steps, statuses, metadata, context and history, uuids kept) "
        "into TO: a notebook's TinyDB file to a shared database, or back. Copying again copies what is new; "
        "a run TO has already is left as TO has it.",
    )
    command.add_argument("--from", dest="source", required=True, metavar="FROM", help="a TinyDB file or database URL")
    command.add_argument("--to", dest="target", required=True, metavar="TO", help="a TinyDB file or database URL")
    command.add_argument("--prefix", help="the tables' prefix in a database URL (default prorch_), for both")
    command.set_defaults(
        handler=lambda a: print(copy(Database.either(a.source, a.prefix), Database.either(a.target, a.prefix)))
    )
    return parser


def _command_on_a_run(commands: Any, name: str, *, help: str, description: str) -> argparse.ArgumentParser:
    """A command that changes one stored run, named by ``UUID``, by hand (without importing the run's module)."""
    command = commands.add_parser(name, help=help, description=f"{description} The run's module is not needed.")
    _database_options(command)
    command.add_argument("uuid", metavar="UUID", help="the run (a unique start of its uuid will do)")
    return command


def _database_options(command: argparse.ArgumentParser, default: str | None = None) -> None:
    """``--db FILE|URL`` and ``--prefix``."""
    where = f"default: ./{default}" if default else "must exist"
    command.add_argument(
        "--db",
        default=default,
        required=default is None,
        metavar="FILE|URL",
        help=f"a TinyDB file ({where}), or a database URL: postgresql://user@host/db, sqlite:///runs.db",
    )
    command.add_argument("--prefix", help="with a URL: the tables' prefix (default prorch_), one per project")


def _database(args: argparse.Namespace) -> Database:
    return Database(args.db, args.prefix)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def _count(text: str) -> int:
    if not (text.isdigit() and int(text) > 0):
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return int(text)
