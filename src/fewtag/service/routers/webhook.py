"""``POST /github/webhook``: verify, validate, record, answer 202; the write-back runs after."""

from __future__ import annotations

import json
import logging
import uuid

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from fewtag.service.deps import SettingsDep, StateDep
from fewtag.service.routing import strict_loads
from fewtag.service.schemas import WebhookResult
from fewtag.service.webhook import HANDLED_ACTIONS, IssueJob, parse_issues_event, validation_sentence, verify_signature

router = APIRouter(prefix="/github", tags=["github"])
log = logging.getLogger("fewtag.service.webhook")


def _result(status: str, code: int = 200, **fields: object) -> JSONResponse:
    return JSONResponse(WebhookResult(status=status, **fields).model_dump(), status_code=code)  # type: ignore[arg-type]


@router.post(
    "/webhook",
    response_model=WebhookResult,
    status_code=202,
    responses={
        200: {"description": "A ping, a duplicate, or an issue with nothing to tag."},
        204: {"description": "Event ignored."},
        401: {"description": "Missing or wrong X-Hub-Signature-256."},
        422: {"description": "The body is not JSON or not a valid issues event."},
        503: {"description": "FEWTAG_WEBHOOK_SECRET is not set, or the queue is full."},
    },
)
async def github_webhook(request: Request, state: StateDep, settings: SettingsDep) -> Response:
    """Handle GitHub ``issues`` (opened, edited) and ``ping`` events; ignore the rest with 204.

    A valid ``issues`` delivery is recorded as received and answered 202 at once;
    the labels are predicted and written back by the write-back worker.
    """
    if settings.webhook_secret is None:
        raise HTTPException(
            status_code=503,
            detail=(
                "The webhook is not configured: set FEWTAG_WEBHOOK_SECRET to the secret entered "
                "in the GitHub webhook settings."
            ),
        )
    event = request.headers.get("x-github-event", "")
    body = await request.body()
    if not verify_signature(
        settings.webhook_secret.get_secret_value(), body, request.headers.get("x-hub-signature-256")
    ):
        state.metrics.webhook(event, "bad-signature")
        raise HTTPException(
            status_code=401,
            detail=(
                "The X-Hub-Signature-256 header is missing or does not match the body; check that "
                "the webhook secret on GitHub equals FEWTAG_WEBHOOK_SECRET."
            ),
        )
    delivery = request.headers.get("x-github-delivery") or f"local-{uuid.uuid4()}"
    if event == "ping":
        state.metrics.webhook(event, "pong")
        return _result("pong", delivery=delivery)
    try:
        payload = strict_loads(body)
    except json.JSONDecodeError as exc:
        state.metrics.webhook(event, "invalid")
        raise HTTPException(status_code=422, detail=f"The webhook body is not valid JSON: {exc.msg}.") from None
    action = payload.get("action") if isinstance(payload, dict) else None
    if event != "issues" or action not in HANDLED_ACTIONS:
        state.metrics.webhook(event, "ignored")
        return Response(status_code=204)
    try:
        issues_event = parse_issues_event(payload)
    except ValidationError as exc:
        state.metrics.webhook(event, "invalid")
        raise HTTPException(status_code=422, detail=validation_sentence(exc)) from None
    issue, repo = issues_event.issue, issues_event.repository.full_name
    if issue.pull_request:
        state.metrics.webhook(event, "ignored")
        return Response(status_code=204)
    job = IssueJob.from_event(delivery, event, issues_event)
    assert state.tagger is not None and state.deliveries is not None and state.worker is not None
    if not state.tagger.text_of(job.record()).strip():
        state.metrics.webhook(event, "empty")
        return _result(
            "skipped",
            delivery=delivery,
            repo=repo,
            number=issue.number,
            detail="The issue has no title or body to tag.",
        )
    seen = state.deliveries.received(delivery, event, job.to_json())
    if seen == "done":
        state.metrics.webhook(event, "duplicate")
        return _result(
            "duplicate", delivery=delivery, repo=repo, number=issue.number, detail="This delivery was already handled."
        )
    if not state.worker.submit(job):
        state.metrics.webhook(event, "busy")
        raise HTTPException(
            status_code=503,
            headers={"Retry-After": "60"},
            detail=(
                "The write-back queue is full; the delivery is saved and runs when GitHub redelivers it "
                "or the service restarts."
            ),
        )
    state.metrics.webhook(event, "accepted")
    dry_run = settings.dry_run or not state.can_write
    return _result(
        "accepted",
        202,
        delivery=delivery,
        repo=repo,
        number=issue.number,
        dry_run=dry_run,
        detail=(
            "Labels will be planned and logged, not written (dry run)."
            if dry_run
            else "Labels will be predicted and written back."
        ),
    )
