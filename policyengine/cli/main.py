"""The `policyengine` command: a click group whose commands parse options, call the API and map
outcomes to exit codes. Heavy modules (pydantic models, SQLAlchemy, Jinja2) are imported inside
the commands that need them, so `--help` starts fast.
"""

from __future__ import annotations

import atexit
import os
import sys
import traceback
from typing import Any

import click

from policyengine import __version__
from policyengine.cli import output
from policyengine.cli.check_cmd import QUICK_EXIT, check
from policyengine.cli.exitcodes import ExitCode, for_diagnostics
from policyengine.cli.impact_cmd import impact
from policyengine.cli.ledger_cmd import ledger
from policyengine.cli.report_cmd import report
from policyengine.cli.rules_cmd import rules
from policyengine.cli.scan_cmd import scan
from policyengine.diagnostics import PolicyEngineError


class _Group(click.Group):
    """A group that turns errors into diagnostics and exit codes instead of tracebacks."""

    quick_exit = False
    """Whether the command that ran asked for a quick exit (``QUICK_EXIT`` in ``ctx.meta``)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.exceptions.Exit:
            self.quick_exit = bool(ctx.meta.get(QUICK_EXIT))
            raise
        except (click.ClickException, click.Abort, BrokenPipeError):
            raise
        except PolicyEngineError as error:
            output.diagnostics(error.diagnostics)
            ctx.exit(for_diagnostics(error.diagnostics))
        except Exception as error:  # the last line of defence: never show a traceback by default
            if os.environ.get("POLICYENGINE_DEBUG"):
                traceback.print_exc()
            click.echo(
                f"policyengine: internal error: {error.__class__.__name__}: {error}\n"
                "  help: this is a bug; rerun with POLICYENGINE_DEBUG=1 and report the traceback",
                err=True,
            )
            ctx.exit(ExitCode.INTERNAL)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="policyengine")
def cli() -> None:
    """Decide, with citations, whether outputs of other people's models may be used to
    pre-train, fine-tune, distill, evaluate or ship a model.

    \b
    Exit codes: 0 compliant · 1 violations (or failing pack tests) · 2 usage or input error
                3 invalid rules · 4 needs review · 5 internal error
    """


cli.add_command(rules)
cli.add_command(check)
cli.add_command(impact)
cli.add_command(ledger)
cli.add_command(report)
cli.add_command(scan)


def main() -> None:
    """Entry point of the console script and of `python -m policyengine`."""
    try:
        sys.exit(cli.main(prog_name="policyengine"))
    except SystemExit as done:
        if cli.quick_exit:
            _leave(done)
        raise
    except BrokenPipeError:
        # The reader went away (`… | head`); that is not an error of ours. Point stdout at devnull
        # so that the interpreter's final flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)


def _leave(done: SystemExit) -> None:
    """End the process now, with ``done``'s exit code, when nothing is left but teardown.

    Freeing every module and object at interpreter shutdown costs a tenth of a second once
    SQLAlchemy is loaded, a noticeable share of a `check` run in a pipeline. A command asks for
    this only after it has closed what it opened (the ledger's engine is disposed when its context
    closes); the output streams are flushed and the exit handlers run (multiprocessing, temporary
    files) as they would be. Anything odd (an exit code that is not a number, a stream that cannot
    be flushed) leaves it to the ordinary shutdown.
    """
    code = 0 if done.code is None else done.code
    if not isinstance(code, int):
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return
    atexit._run_exitfuncs()
    os._exit(code)
