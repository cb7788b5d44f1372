"""``POST /github/webhook``: verify, de-duplicate, predict, apply labels (or plan them)."""

from __future__ import annotations

import json
import logging

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from fewtag.service.deps import SettingsDep, StateDep
from fewtag.service.schemas import WebhookResult
from fewtag.service.webhook import HANDLED_ACTIONS, plan_labels, verify_signature

router = APIRouter(prefix="/github", tags=["github"])
log = logging.getLogger("fewtag.service.webhook")


def _result(status: str, code: int = 200, **fields: object) -> JSONResponse:
    return JSONResponse(WebhookResult(status=status, **fields).model_dump(), status_code=code)  # type: ignore[arg-type]


@router.post("/webhook", response_model=WebhookResult,
             responses={204: {"description": "Event ignored."},
                        401: {"description": "Missing or wrong X-Hub-Signature-256."},
                        503: {"description": "FEWTAG_WEBHOOK_SECRET is not set."}})
async def github_webhook(request: Request, state: StateDep, settings: SettingsDep) -> Response:
    """Handle GitHub ``issues`` (opened, edited) and ``ping`` events; ignore the rest with 204."""
    if settings.webhook_secret is None:
        raise HTTPException(status_code=503, detail=(
            "The webhook is not configured: set FEWTAG_WEBHOOK_SECRET to the secret entered "
            "in the GitHub webhook settings."))
    body = await request.body()
    if not verify_signature(settings.webhook_secret.get_secret_value(), body,
                            request.headers.get("x-hub-signature-256")):
        state.metrics.webhook(request.headers.get("x-github-event", ""), "bad-signature")
        raise HTTPException(status_code=401, detail=(
            "The X-Hub-Signature-256 header is missing or does not match the body; check that "
            "the webhook secret on GitHub equals FEWTAG_WEBHOOK_SECRET."))
    event = request.headers.get("x-github-event", "")
    delivery = request.headers.get("x-github-delivery")
    assert state.deliveries is not None
    if delivery and not state.deliveries.first_time(delivery, event):
        state.metrics.webhook(event, "duplicate")
        return _result("duplicate", delivery=delivery, detail="This delivery was already handled.")
    try:
        return await _handle(event, delivery, body, state, settings)
    except Exception:
        if delivery:  # let GitHub's redelivery try again
            state.deliveries.forget(delivery)
        raise


async def _handle(event: str, delivery: str | None, body: bytes, state: StateDep,
                  settings: SettingsDep) -> Response:
    if event == "ping":
        state.metrics.webhook(event, "pong")
        return _result("pong", delivery=delivery)
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HTTPException(status_code=400, detail=f"The webhook body is not valid JSON: {exc}.") \
            from exc
    action = payload.get("action") if isinstance(payload, dict) else None
    if event != "issues" or action not in HANDLED_ACTIONS:
        state.metrics.webhook(event, "ignored")
        return Response(status_code=204)
    issue, repo = payload.get("issue"), payload.get("repository")
    if not isinstance(issue, dict) or not isinstance(repo, dict) or "number" not in issue \
            or "full_name" not in repo:
        raise HTTPException(status_code=422, detail=(
            "The issues event lacks issue.number or repository.full_name."))
    if issue.get("pull_request"):
        state.metrics.webhook(event, "ignored")
        return Response(status_code=204)
    title, text = issue.get("title") or "", issue.get("body") or ""
    text = f"{title}\n\n{text}" if title and text else title or text
    number, full_name = int(issue["number"]), str(repo["full_name"])
    current = [lab["name"] if isinstance(lab, dict) else str(lab) for lab in issue.get("labels") or []]
    if not text.strip():
        state.metrics.webhook(event, "empty")
        return _result("skipped", delivery=delivery, repo=full_name, number=number,
                       detail="The issue has no title or body to tag.")
    assert state.batcher is not None
    [(labels, scores, _)] = await state.batcher.run([text[:settings.max_text_chars]])
    plan = plan_labels(full_name, number, current, labels, scores)
    dry_run = settings.dry_run or not state.can_write
    assert state.writer is not None
    actions = await run_in_threadpool(lambda: state.writer.apply(plan, dry_run=dry_run))
    added = [a["label"] for a in actions if a["action"] == "added"]
    if dry_run:
        why = "dry run" if settings.dry_run else "no GitHub token configured (FEWTAG_GITHUB_TOKEN)"
        planned = [a["label"] for a in actions if a["action"] == "planned"]
        state.metrics.webhook(event, "planned")
        return _result("planned", delivery=delivery, repo=full_name, number=number, labels=labels,
                       actions=actions, dry_run=True,
                       detail=f"Would add {planned or 'no labels'} ({why}).")
    state.metrics.webhook(event, "applied")
    return _result("applied", delivery=delivery, repo=full_name, number=number, labels=labels,
                   added=added, actions=actions)
