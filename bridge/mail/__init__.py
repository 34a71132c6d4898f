"""Email by WHMCS template name (DESIGN.md §7).

- :mod:`~bridge.mail.messages` (pure): the merge fields of a client, the :class:`Message` a job
  queues, and the ``{$var}`` renderer;
- :mod:`~bridge.mail.transports` (the edge): how a message leaves — WHMCS's API ``SendEmail``,
  SMTP, or a folder of ``.eml`` files for the demo.

The outbox that makes each alert go out once, after the job's transaction committed, is the use
case :mod:`bridge.usecases.mail` over the table in :mod:`bridge.store.outbox`.
"""
