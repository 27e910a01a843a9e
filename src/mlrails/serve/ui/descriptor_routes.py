"""The web UI's descriptor and mismatch pages (``mlrails serve --descriptors DIR``).

===============================  ==============================================================
``GET /ui/descriptors``          the eight descriptors of DIR: present, missing or unreadable
``GET /ui/descriptors/{kind}``   one descriptor: every field with its schema description, as a
                                 form (a missing one starts from an empty document)
``POST /ui/descriptors/{kind}``  validates the whole document; 422 with the problems at their
                                 fields (file untouched), else writes ``<kind>.json`` atomically
                                 and redirects (303) to the viewer
``GET /ui/mismatch``             every mismatch rule on DIR: findings, unreadable files, skips
===============================  ==============================================================

Same sign-in, security headers and same-origin check as the rest of the UI
(:mod:`mlrails.serve.ui.common`). File paths are only ever built from the eight known kinds,
never from request text. A save carries the :func:`revision_token` of the file it was edited
from (its SHA-256), so an edit made on a stale page does not silently overwrite a newer file
(409).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qs

import anyio.to_thread
from fastapi import APIRouter, Request
from starlette.responses import Response

from mlrails.descriptors import (
    DESCRIPTOR_KINDS,
    DescriptorError,
    DescriptorIssue,
    DescriptorKind,
    DescriptorSet,
    descriptor_filename,
    load_descriptor,
    read_descriptor_dir,
    write_descriptor,
)
from mlrails.mismatch.check import check_descriptors
from mlrails.mismatch.findings import MismatchReport
from mlrails.serve.ui.common import (
    StoreDown,
    Viewer,
    html,
    now_text,
    redirect,
    same_origin,
    ui_root,
)
from mlrails.serve.ui.descriptor_view import (
    directory_view,
    document_from_form,
    editor_view,
    form_values,
    is_kind,
    report_view,
    skeleton,
)
from mlrails.serve.ui.templates import render
from mlrails.serve.ui.view import clip

if TYPE_CHECKING:
    from mlrails.serve.ui.routes import Ui

#: largest descriptor form body read (413 beyond)
MAX_DESCRIPTOR_FORM_BYTES = 256 * 1024
#: longest part of an unreadable file shown as it is
MAX_RAW_TEXT = 20_000
#: most form fields read (a descriptor has at most a few dozen top-level fields)
_MAX_FIELDS = 200
_ABSENT = "absent"
_ENABLE = "mlrails serve --descriptors DIR"


def install_descriptor_routes(router: APIRouter, ui: Ui) -> None:
    """Add the descriptor and mismatch pages to the ``/ui`` router."""
    pages = _DescriptorPages(ui)
    router.add_api_route("/descriptors", pages.index, methods=["GET"], response_class=Response)
    router.add_api_route(
        "/descriptors/{kind}", pages.editor, methods=["GET"], response_class=Response
    )
    router.add_api_route(
        "/descriptors/{kind}", pages.save, methods=["POST"], response_class=Response
    )
    router.add_api_route("/mismatch", pages.mismatch, methods=["GET"], response_class=Response)


def revision_token(data: bytes | None) -> str:
    """What an editor form remembers of the descriptor file it was made from (its ``_base``
    field): the SHA-256 of the file's bytes, or ``absent`` for no file."""
    return _ABSENT if data is None else hashlib.sha256(data).hexdigest()


def _read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _read_directory(directory: Path) -> tuple[DescriptorSet, str | None]:
    """The descriptor set; a directory that does not exist yet reads as all missing."""
    if not directory.exists():
        ds = DescriptorSet(directory, missing=list(DESCRIPTOR_KINDS))
        return ds, "the directory does not exist yet; saving a descriptor creates it"
    return read_descriptor_dir(directory), None


class _DescriptorPages:
    def __init__(self, ui: Ui) -> None:
        self.ui = ui

    @property
    def directory(self) -> Path | None:
        configured = self.ui.b.settings.descriptors_dir
        return None if configured is None else Path(configured)

    # -- gatekeeping ---------------------------------------------------------------------
    async def _enter(
        self, request: Request, current: str
    ) -> tuple[dict[str, Any], Path] | Response:
        """The page context and the directory, or the response that ends the request: sign-in
        redirect, store down (503), or the 404 page saying how to enable these pages."""
        root = ui_root(request)
        try:
            viewer: Viewer | None = await self.ui.viewer(request)
        except StoreDown:
            return self.ui.store_down_page(request)
        if viewer is None:
            return redirect(root + "/login")
        ctx: dict[str, Any] = {
            "root": root,
            "auth": self.ui.auth,
            "key_id": viewer.key_id,
            "current": current,
        }
        directory = self.directory
        if directory is None:
            return _notice(
                ctx,
                404,
                "No descriptor directory",
                "This service was started without a directory of mismatch descriptors, so "
                "there are no descriptors to show, edit or check.",
                "Start it with the directory holding the eight descriptor files "
                "(<kind>.json, v1.2 format); a directory that does not exist yet is created "
                "when the first descriptor is saved:",
                _ENABLE,
            )
        return ctx, directory

    def _unknown_kind(self, ctx: dict[str, Any], kind: str) -> Response:
        return _notice(
            ctx,
            404,
            "No such descriptor",
            f"{kind!r} is not one of the eight descriptors.",
            "Known: " + ", ".join(DESCRIPTOR_KINDS) + ".",
            None,
            back=(ctx["root"] + "/descriptors", "all descriptors"),
        )

    # -- pages ---------------------------------------------------------------------------
    async def index(self, request: Request) -> Response:
        entered = await self._enter(request, "descriptors")
        if isinstance(entered, Response):
            return entered
        ctx, directory = entered
        try:
            ds, note = await anyio.to_thread.run_sync(_read_directory, directory)
        except DescriptorError as exc:
            return _notice(ctx, 500, "Descriptor directory unreadable", str(exc), None, None)
        page = render(
            "descriptors.html",
            **ctx,
            directory=str(directory),
            directory_note=note,
            rows=directory_view(ds),
            ignored=[p.name for p in ds.ignored],
        )
        return html(page)

    async def editor(self, request: Request, kind: str) -> Response:
        entered = await self._enter(request, "descriptors")
        if isinstance(entered, Response):
            return entered
        ctx, directory = entered
        if not is_kind(kind):
            return self._unknown_kind(ctx, kind)
        known = cast(DescriptorKind, kind)
        path = directory / descriptor_filename(known)
        state, values, issues, warnings, data = await anyio.to_thread.run_sync(
            _current, known, path
        )
        page = render(
            "descriptor.html",
            **ctx,
            directory=str(directory),
            d=editor_view(known, values, issues),
            state=state,
            submitted=False,
            saved=request.query_params.get("saved") == "1",
            notice=None,
            warnings=[_issue(w) for w in warnings],
            base=revision_token(data),
            raw=_raw_text(data) if state == "unreadable" else None,
        )
        return html(page)

    async def save(self, request: Request, kind: str) -> Response:
        entered = await self._enter(request, "descriptors")
        if isinstance(entered, Response):
            return entered
        ctx, directory = entered
        if not same_origin(request):
            return _notice(
                ctx, 403, "Cross-site save refused", "This form must be sent from this site.", None
            )
        if not is_kind(kind):
            return self._unknown_kind(ctx, kind)
        known = cast(DescriptorKind, kind)
        form = await _read_form(request, MAX_DESCRIPTOR_FORM_BYTES)
        if form is None:
            return _notice(
                ctx,
                413,
                "Descriptor too large",
                f"The submitted form is larger than {MAX_DESCRIPTOR_FORM_BYTES // 1024} KiB; "
                "nothing was saved.",
                "Edit a file that large with the command line (mlrails describe) instead.",
            )
        name = descriptor_filename(known)
        path = directory / name
        result = document_from_form(known, form, name)
        status, notice = 422, None
        if result.descriptor is not None:
            descriptor = result.descriptor
            base = form.get("_base", "")

            def write() -> bool:
                if revision_token(_read_bytes(path)) != base:
                    return False
                write_descriptor(descriptor, path)  # temporary file, then os.replace
                return True

            if await anyio.to_thread.run_sync(write):
                return redirect(f"{ctx['root']}/descriptors/{known}?saved=1")
            status = 409
            notice = (
                f"{name} changed on disk after this page was opened; nothing was saved. "
                "Open the descriptor again to see the current file (copy your edits first)."
            )
        page = render(
            "descriptor.html",
            **ctx,
            directory=str(directory),
            d=editor_view(known, form, result.issues),
            state="submitted",
            submitted=True,
            saved=False,
            notice=notice,
            warnings=[],
            base=form.get("_base", ""),
            raw=None,
        )
        return html(page, status)

    async def mismatch(self, request: Request) -> Response:
        entered = await self._enter(request, "mismatch")
        if isinstance(entered, Response):
            return entered
        ctx, directory = entered

        def check() -> MismatchReport:
            return check_descriptors(_read_directory(directory)[0])

        try:
            report = await anyio.to_thread.run_sync(check)
        except DescriptorError as exc:
            return _notice(ctx, 500, "Descriptor directory unreadable", str(exc), None, None)
        page = render("mismatch.html", **ctx, r=report_view(report), generated=now_text())
        return html(page)


def _current(
    kind: DescriptorKind, path: Path
) -> tuple[str, dict[str, str], list[DescriptorIssue], list[DescriptorIssue], bytes | None]:
    """What the editor starts from: (state, form values, problems, warnings, file bytes).

    An unreadable file that is still a JSON object is shown as it is, with its problems at
    their fields; otherwise the form starts from :func:`skeleton`."""
    data = _read_bytes(path)
    if data is None:
        return "missing", form_values(kind, skeleton(kind)), [], [], None
    try:
        loaded = load_descriptor(path, kind=kind)
    except DescriptorError as exc:
        try:
            raw = json.loads(data.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raw = None
        document = raw if isinstance(raw, dict) else skeleton(kind)
        return "unreadable", form_values(kind, document), exc.issues, [], data
    values = form_values(kind, loaded.descriptor.to_document())
    return "present", values, [], list(loaded.warnings), data


def _raw_text(data: bytes | None) -> str | None:
    """An unreadable file's text as it is (clipped), so fixing it in the form loses nothing."""
    if data is None:
        return None
    return clip(data.decode("utf-8", errors="replace"), MAX_RAW_TEXT)


def _issue(issue: DescriptorIssue) -> dict[str, str]:
    return {
        "file": issue.file,
        "name": Path(issue.file).name,
        "path": issue.path,
        "problem": issue.problem,
    }


def _notice(
    ctx: dict[str, Any],
    status: int,
    heading: str,
    message: str,
    hint: str | None,
    command: str | None = None,
    *,
    back: tuple[str, str] | None = None,
) -> Response:
    page = render(
        "notice.html",
        **ctx,
        heading=heading,
        message=message,
        hint=hint,
        command=command,
        back=None if back is None else back[0],
        back_label="" if back is None else back[1],
    )
    return html(page, status)


async def _read_form(request: Request, limit: int) -> dict[str, str] | None:
    """The urlencoded form body (first value per field), or None when over ``limit`` bytes."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        return None
    buf = bytearray()
    async for chunk in request.stream():
        buf.extend(chunk)
        if len(buf) > limit:
            return None
    try:
        parsed = parse_qs(buf.decode("utf-8"), keep_blank_values=True, max_num_fields=_MAX_FIELDS)
    except (UnicodeDecodeError, ValueError):
        return {}
    return {k: v[0] for k, v in parsed.items() if v}
