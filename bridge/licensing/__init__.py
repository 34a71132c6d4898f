"""License Activate/Verify (DESIGN.md §8): signed tokens, verdicts, and the small reference
license server (``bridge license-server``).

:mod:`bridge.licensing.tokens` and :mod:`bridge.licensing.verdict` are pure; the server is
:mod:`bridge.licensing.server` on :mod:`bridge.licensing.keystore`. The edges reach licenses
through the use case :mod:`bridge.usecases.licenses` (Activate, Verify, the provisioning check).
"""
