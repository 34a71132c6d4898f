"""The use cases: one module per concept, the only way down from the edges.

The edges — CLI commands (``bridge/commands``), HTTP endpoints (``bridge/web``), cron jobs
(``bridge/jobs``) and the demo — parse what they were given, open the database and call one
function here; these modules put the layers together (WHMCS data in ``bridge/whmcs``, the bridge's
own tables in ``bridge/store``, PBX adapters in ``bridge/modules``, pure rating in
``bridge/rating``) and return frozen reports the edges print or serialise.

- :mod:`~bridge.usecases.pbx_servers`: the VoIP servers, as adapters need them;
- :mod:`~bridge.usecases.pbx_health`: each PBX's health;
- :mod:`~bridge.usecases.cdr_intake`: calls in — collection, file import, push — and the one rule
  that files a call under a service;
- :mod:`~bridge.usecases.usage`: a service's rated usage for a billing period, from the store.
- :mod:`~bridge.usecases.licenses`: license Activate and Verify, and the check that guards
  provisioning and the client area.
- :mod:`~bridge.usecases.mail`: alerts by WHMCS template name — queued in the job's transaction
  once per dedupe key, delivered after commit through the configured transport, retried.
"""
