"""Vodia's CDR push: ``POST /v1/cdr/vodia/{server_id}`` stores the calls a Vodia PBX posts.

Vodia posts one JSON CDR per call leg (CDR URL scheme ``json``/``jsons``) or one WebCDR per call
(``webcdr``/``webcdrs``) to the CDR URL set per system or per tenant; the bridge takes either, or a
JSON list of them (:func:`bridge.modules.vodia_cdr.parse_vodia_cdr`). Each server has its own push
token (``bridge.store.servers.issue_push_token``), carried whichever way the PBX can:

    jsons://bridge.example.com/v1/cdr/vodia/7?token=TOKEN
    webcdrs://vodia:TOKEN@bridge.example.com/v1/cdr/vodia/7      (HTTP Basic; the user is ignored)
    Authorization: Bearer TOKEN

A wrong or missing token is a 401 before the body is read, and a body that is not JSON or holds
anything but a JSON object or list is a 422; either way nothing is written. A CDR in the post
that cannot be read or stored is quarantined (counted as ``quarantined`` in the answer, listed by
``bridge doctor``) and the rest of the post is stored. Calls are stored idempotently on
(server, call id), so a post repeated by the PBX counts as duplicates, and filed under a service by
the one tenant rule of :mod:`bridge.usecases.cdr_intake` (no or several owners: unassigned, and
filed later).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from bridge.calls import Intake, RejectedCdr
from bridge.clock import utc_now
from bridge.db import Database
from bridge.errors import AuthError, InvalidRequest
from bridge.modules.vodia_cdr import parse_vodia_cdr
from bridge.store.servers import check_push_token
from bridge.usecases.cdr_intake import PushReport, store_pushed_cdrs
from bridge.web.json_body import load_json
from bridge.web.signing import read_limited_body
from bridge.web.state import app_state

log = logging.getLogger("bridge.web.push")


async def receive_vodia_cdrs(request: Request) -> JSONResponse:
    """Authenticate a Vodia CDR post, store its calls once, and count stored and duplicates."""
    database = app_state(request).database
    server_id: int = request.path_params["server_id"]
    token = _token(request)
    if not token or not await run_in_threadpool(_token_is_valid, database, server_id, token):
        log.warning("push.refused server=%s token=%s", server_id, "wrong" if token else "missing")
        raise AuthError(
            f"CDR push refused: the push token for server {server_id} is missing or wrong. Put "
            "the token the bridge issued for this server in Vodia's CDR URL (?token=... or "
            "user:token@host)."
        )
    body = await read_limited_body(request)
    report = await run_in_threadpool(_parse_and_store, database, server_id, body)
    log.info(
        "push.stored server=%s stored=%d duplicates=%d unassigned=%d quarantined=%d",
        server_id,
        report.stored,
        report.duplicates,
        report.unassigned,
        report.quarantined,
    )
    # The PBX only needs to know the post arrived; calls no service owns are in the log and in
    # `bridge doctor`, for the operator, and so are quarantined ones.
    result = {
        "stored": report.stored,
        "duplicates": report.duplicates,
        "quarantined": report.quarantined,
    }
    return JSONResponse({"ok": True, "result": result})


def _token(request: Request) -> str:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            credentials = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return ""
        return credentials.partition(":")[2]
    return request.query_params.get("token", "").strip()


def _token_is_valid(database: Database, server_id: int, token: str) -> bool:
    with database.transaction() as conn:
        return check_push_token(conn, server_id, token)


def _parse_body(body: bytes) -> list[Intake]:
    payload = load_json(body, what="The CDR post")
    if not isinstance(payload, dict | list):
        raise InvalidRequest("The CDR post must be a JSON object (one CDR) or a list of them.")
    items = payload if isinstance(payload, list) else [payload]
    records: list[Intake] = []
    for number, item in enumerate(items, start=1):
        try:
            records.append(parse_vodia_cdr(item))
        except InvalidRequest as exc:
            # One unreadable call never costs the rest of the post: it is quarantined instead.
            where = f"CDR {number} of {len(items)}" if len(items) > 1 else "CDR"
            log.warning("push.cdr_rejected %s reason=%r", where, exc.message)
            records.append(RejectedCdr(_call_id(item), exc.message, _shown(item)))
    return records


def _parse_and_store(database: Database, server_id: int, body: bytes) -> PushReport:
    # Parsing runs here, in the thread pool, with the store: whatever the body holds, the event
    # loop (and so /healthz and every other request) never waits on it.
    return store_pushed_cdrs(database, server_id, "vodia", _parse_body(body), now=utc_now())


def _call_id(item: object) -> str:
    if isinstance(item, dict):
        for name in ("CallID", "callid", "call_id"):
            value = item.get(name)
            if isinstance(value, str | int) and not isinstance(value, bool):
                return str(value).strip()
    return ""


def _shown(item: object) -> str:
    return json.dumps(item, ensure_ascii=False)[:2000]
