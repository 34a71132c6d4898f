"""License Activate/Verify (DESIGN.md §8): signed tokens, the checks the edges call, and the
small reference license server (``bridge license-server``).

Edges use :mod:`bridge.licensing.activation`; :mod:`bridge.licensing.tokens` and
:mod:`bridge.licensing.verdict` are pure; the server is :mod:`bridge.licensing.server` on
:mod:`bridge.licensing.keystore`.
"""
