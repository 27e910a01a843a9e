"""What every command prints through: the Rich consoles, the progress bar, and the one way a
command fails (a one-line ``error:`` on stderr and an exit code, never a traceback).

Opening the decision log for a command lives here too: it fails the same way when the serve
extra is missing or the store cannot be opened.
"""

from __future__ import annotations

from typing import Any, NoReturn

import rich.markup
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from mlrails.errors import MlrailsError

#: tables, summaries and results (stdout)
console = Console()
#: progress, notes and errors (stderr)
err_console = Console(stderr=True)


def progress() -> Progress:
    """The progress bar of long commands, on stderr, gone when done."""
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``error: MESSAGE`` on stderr and end the command with exit ``code``."""
    err_console.print(
        f"[bold red]error:[/] {rich.markup.escape(message)}", highlight=False, soft_wrap=True
    )
    raise typer.Exit(code)


def pydantic_message(exc: ValueError) -> str:
    """Each problem of a pydantic validation error as ``field: message``, else the message."""
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    return lines[-1] if lines else type(exc).__name__


def open_store(target: str, *, create: bool = False) -> Any:
    """The store at ``target`` (SQLite path or PostgreSQL URL), or fail the command."""
    try:
        from mlrails import store
    except ModuleNotFoundError as exc:
        fail(f"this command needs the serve extra: pip install 'mlrails[serve]' ({exc.name})")
    try:
        return store.open_store(target, create=create)
    except MlrailsError as exc:
        fail(str(exc))
