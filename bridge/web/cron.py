"""``POST /v1/cron/{job}``: a billing job run by WHMCS's cron (the PHP cron files) or a crontab.

Signed like every shim call (:func:`bridge.web.signing.accept_signed`). The body may be empty or a
JSON object with ``dry_run`` (bool), ``debug`` (bool), ``service`` (a service id) and ``period``
(``START..END``, for rerate). The answer is ``{"ok": true, "result": REPORT}`` with the job's
report (:meth:`bridge.jobs.base.JobReport.to_json`), whatever the report says: the caller reads
``result.ok`` and ``result.errors`` (the PHP cron files exit non-zero when ``ok`` is false). A job
runs in the thread pool; a long one holds this request until it is done.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from bridge.clock import utc_now
from bridge.errors import InvalidRequest, UnknownAction
from bridge.jobs import JOBS
from bridge.jobs.base import JobContext, JobSpec, run_job
from bridge.jobs.rerate import parse_period
from bridge.web.json_body import load_json
from bridge.web.signing import accept_signed
from bridge.web.state import app_state

log = logging.getLogger("bridge.web.cron")


async def run_cron_job(request: Request) -> JSONResponse:
    """Run the job the path names and answer its report."""
    name = request.path_params["job"]

    def parse(body: bytes) -> tuple[JobSpec, dict[str, Any]]:
        spec = JOBS.get(name)
        if spec is None:
            raise UnknownAction(f"The bridge has no job {name!r}; it has {', '.join(JOBS)}.")
        return spec, _options(body)

    spec, options = await accept_signed(request, parse)
    state = app_state(request)
    context = JobContext(
        database=state.database,
        settings=state.settings,
        now=utc_now(),
        dry_run=options["dry_run"],
        debug=options["debug"],
        service_id=options["service"],
        options={"period": options["period"]} if options["period"] else {},
    )
    log.info("cron.run job=%s dry_run=%s", spec.name, context.dry_run)
    report = await run_in_threadpool(run_job, spec, context)
    return JSONResponse({"ok": True, "result": report.to_json()})


def _options(body: bytes) -> dict[str, Any]:
    payload = load_json(body, what="The cron request body") if body.strip() else {}
    payload = {} if payload == [] else payload  # PHP's json_encode([]) is []
    if not isinstance(payload, dict):
        raise InvalidRequest("The cron request body must be a JSON object.")
    dry_run, debug = payload.get("dry_run", False), payload.get("debug", False)
    service, period = payload.get("service"), payload.get("period", "")
    if not isinstance(dry_run, bool) or not isinstance(debug, bool):
        raise InvalidRequest('"dry_run" and "debug" must be true or false.')
    if service is not None and (isinstance(service, bool) or not isinstance(service, int)):
        raise InvalidRequest('"service" must be a WHMCS service id (a number).')
    if not isinstance(period, str):
        raise InvalidRequest('"period" must be START..END.')
    if period:
        parse_period(period)
    return {"dry_run": dry_run, "debug": debug, "service": service, "period": period}
