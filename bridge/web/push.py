"""Vodia's CDR push: ``POST /v1/cdr/vodia/{server_id}`` stores the calls a Vodia PBX posts.

Vodia posts one JSON CDR per call leg (CDR URL scheme ``json``/``jsons``) or one WebCDR per call
(``webcdr``/``webcdrs``) to the CDR URL set per system or per tenant; the bridge takes either, or a
JSON list of them (:func:`bridge.modules.vodia_cdr.parse_vodia_cdr`). Each server has its own push
token (``bridge.store.servers.issue_push_token``), carried whichever way the PBX can:

    jsons://bridge.example.com/v1/cdr/vodia/7?token=TOKEN
    webcdrs://vodia:TOKEN@bridge.example.com/v1/cdr/vodia/7      (HTTP Basic; the user is ignored)
    Authorization: Bearer TOKEN

A wrong or missing token is a 401 before the body is read, and a body that is not JSON or holds
anything but Vodia CDRs is a 422; either way nothing is written. Calls are stored idempotently on
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

from bridge.calls import CollectedCdr
from bridge.clock import utc_now
from bridge.db import Database
from bridge.errors import AuthError, InvalidRequest
from bridge.modules.vodia_cdr import parse_vodia_cdr
from bridge.store.servers import check_push_token
from bridge.usecases.cdr_intake import store_pushed_cdrs
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
    records = _parse_body(await read_limited_body(request))
    report = await run_in_threadpool(
        store_pushed_cdrs, database, server_id, "vodia", records, now=utc_now()
    )
    log.info(
        "push.stored server=%s stored=%d duplicates=%d unassigned=%d",
        server_id,
        report.stored,
        report.duplicates,
        report.unassigned,
    )
    # The PBX only needs to know the post arrived; calls no service owns are in the log and in
    # `bridge doctor`, for the operator.
    result = {"stored": report.stored, "duplicates": report.duplicates}
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


def _parse_body(body: bytes) -> list[CollectedCdr]:
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidRequest(f"The CDR post is not JSON ({exc}).") from None
    items = payload if isinstance(payload, list) else [payload]
    records = []
    for number, item in enumerate(items, start=1):
        try:
            records.append(parse_vodia_cdr(item))
        except InvalidRequest as exc:
            where = f"CDR {number} of {len(items)}: " if len(items) > 1 else ""
            raise InvalidRequest(f"{where}{exc.message} Nothing was stored.") from None
    return records
