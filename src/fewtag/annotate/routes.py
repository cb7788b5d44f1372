"""The page's routes: show an issue, save, skip, undo, the review queue, log in.

Posts are plain HTML forms (``application/x-www-form-urlencoded``) answered with a 303 redirect,
so the page works without JavaScript; the inline script only maps keys onto the same forms.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from fewtag.active import REASONS
from fewtag.annotate.security import COOKIE, Guard
from fewtag.annotate.state import AnnotateState, Entry
from fewtag.annotate.templates import render
from fewtag.annotate.views import options, progress
from fewtag.annotate.worker import record_text
from fewtag.errors import InputError

__all__ = ["router"]

NOTES = {
    "saved": "Saved.",
    "skipped": "Skipped.",
    "undone": "Undid the last save or skip; that issue is shown again.",
    "nothing": "Nothing to undo.",
    "login": "Logged in.",
}


def get_state(request: Request) -> AnnotateState:
    return request.app.state.annotate


def get_guard(request: Request) -> Guard:
    guard: Guard = request.app.state.guard
    guard.check_request(request)
    return guard


StateDep = Annotated[AnnotateState, Depends(get_state)]
GuardDep = Annotated[Guard, Depends(get_guard)]
router = APIRouter()


def _page(html: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(html, status_code=status)


def _common(state: AnnotateState, guard: Guard, request: Request) -> dict[str, Any]:
    note = request.query_params.get("note", "")
    return {
        "csrf": guard.csrf,
        "progress": progress(state),
        "note": NOTES.get(note),
        "has_review": bool(state.review_rows),
    }


def _issue_page(state: AnnotateState, guard: Guard, request: Request, entry: Entry, *, review: bool) -> HTMLResponse:
    checked = state.current_labels(entry.key) if review else []
    tagger = getattr(state.trained, "tagger", None)
    suggested = sorted(((x, entry.scores.get(x, 0.0)) for x in entry.labels), key=lambda p: -p[1])
    best = max(entry.scores.items(), key=lambda p: p[1]) if entry.scores else None
    return _page(
        render(
            "index",
            **_common(state, guard, request),
            entry=entry,
            multi_label=state.task.multi_label,
            options=options(state, entry, checked),
            suggested=suggested,
            best=best,
            nearest=state.nearest(entry, record_text(entry.item, tagger)),
            next_url="/review/next" if review else "/",
            reason_text=REASONS.get(entry.reason, ""),
        )
    )


@router.get("/healthz", include_in_schema=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> Response:
    return Response(status_code=204)


@router.get("/", response_class=HTMLResponse)
def index(request: Request, state: StateDep, guard: GuardDep) -> HTMLResponse:
    """The next issue to label (or a page that waits for the worker's next batch)."""
    entry = state.current()
    if entry is None:
        ctx = _common(state, guard, request)
        return _page(render("empty", **ctx, busy=state.busy, refresh=1 if state.busy else None))
    return _issue_page(state, guard, request, entry, review=False)


@router.get("/item", response_class=HTMLResponse)
def item(request: Request, state: StateDep, guard: GuardDep, repo: str, id: str, review: int = 0) -> HTMLResponse:
    """One given issue (the review queue links here)."""
    entry = state.entry_for(repo, id)
    if entry is None:
        raise HTTPException(status_code=404, detail=f"There is no item {repo}#{id} in the store.")
    return _issue_page(state, guard, request, entry, review=bool(review))


@router.get("/review", response_class=HTMLResponse)
def review_list(request: Request, state: StateDep, guard: GuardDep) -> HTMLResponse:
    """The issues ``fewtag audit`` flagged, with what became of each."""
    with state.lock:
        rows = [(r, r.key in state.reviewed) for r in state.review_rows]
    next_url = "/review/next" if any(not done for _, done in rows) else None
    return _page(render("review", **_common(state, guard, request), rows=rows, next_url=next_url))


@router.get("/review/next")
def review_next(state: StateDep, guard: GuardDep) -> RedirectResponse:
    row = state.next_review()
    if row is None:
        return RedirectResponse("/review", status_code=303)
    return RedirectResponse("/item?" + urlencode({"repo": row.repo, "id": row.item_id, "review": 1}), status_code=303)


@router.get("/api/progress", include_in_schema=False)
def api_progress(state: StateDep, guard: GuardDep) -> JSONResponse:
    """The progress box as JSON, with the worker's round count (scripts and tests)."""
    body = progress(state)
    body["rounds"] = state.snapshot.rounds
    body["pending"] = len(state.pending())
    return JSONResponse(body)


# ------------------------------------------------------------------ posts
async def _form(request: Request, guard: Guard) -> dict[str, list[str]]:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise HTTPException(status_code=415, detail="Send the form as application/x-www-form-urlencoded.")
    try:
        fields = parse_qs((await request.body()).decode("utf-8"), keep_blank_values=True, max_num_fields=200)
    except (UnicodeDecodeError, ValueError):
        raise HTTPException(status_code=400, detail="The form is not valid URL-encoded UTF-8.") from None
    guard.check_post(request, (fields.get("csrf") or [""])[0])
    return fields


def _one(fields: dict[str, list[str]], name: str) -> str:
    value = (fields.get(name) or [""])[0].strip()
    if not value:
        raise HTTPException(status_code=400, detail=f"The form lacks the field {name!r}.")
    return value


def _back(fields: dict[str, list[str]], note: str) -> RedirectResponse:
    target = (fields.get("next") or ["/"])[0]
    target = target if target in ("/", "/review/next") else "/"
    sep = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{sep}note={note}" if target == "/" else target, status_code=303)


@router.post("/save")
async def save(request: Request, state: StateDep, guard: GuardDep) -> Response:
    """Append the chosen labels to the annotations log, then show the next issue."""
    fields = await _form(request, guard)
    repo, item_id = _one(fields, "repo"), _one(fields, "id")
    version = (fields.get("version") or [""])[0] or None
    review = (fields.get("next") or [""])[0] == "/review/next"
    try:
        await run_in_threadpool(state.save, repo, item_id, fields.get("label", []), version, review=review)
    except InputError as exc:
        raise HTTPException(status_code=400, detail=f"{exc}.") from None
    return _back(fields, "saved")


@router.post("/skip")
async def skip(request: Request, state: StateDep, guard: GuardDep) -> Response:
    fields = await _form(request, guard)
    repo, item_id = _one(fields, "repo"), _one(fields, "id")
    review = (fields.get("next") or [""])[0] == "/review/next"
    await run_in_threadpool(state.skip, repo, item_id, (fields.get("version") or [""])[0] or None, review=review)
    return _back(fields, "skipped")


@router.post("/undo")
async def undo(request: Request, state: StateDep, guard: GuardDep) -> Response:
    await _form(request, guard)
    row = await run_in_threadpool(state.undo)
    return RedirectResponse(f"/?note={'undone' if row is not None else 'nothing'}", status_code=303)


# ------------------------------------------------------------------ login
@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, guard: GuardDep) -> HTMLResponse:
    return _page(render("login", csrf=guard.csrf))


@router.post("/login")
async def login(request: Request, guard: GuardDep) -> Response:
    fields = await _form(request, guard)
    if not guard.needs_login:
        return RedirectResponse("/", status_code=303)
    if not guard.token_ok((fields.get("token") or [""])[0]):
        raise HTTPException(status_code=401, detail="That is not the token set in FEWTAG_ANNOTATE_TOKEN.")
    response = RedirectResponse("/?note=login", status_code=303)
    response.set_cookie(COOKIE, guard.session_value, httponly=True, samesite="strict", secure=False, path="/")
    return response
