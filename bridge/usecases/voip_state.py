"""The VoIP state WHMCS keeps for a client and its services, named once for every edge.

DESIGN.md §6: four client custom fields drive automatic suspension and the low-balance alert;
the autosuspend job marks the services it suspends with its own suspend reason, so it (and an
admin's Unsuspend through the module) can tell its suspensions from those WHMCS or an admin made
for other reasons (an overdue recurring invoice, abuse).
"""

from __future__ import annotations

HAS_VOIP = "Has VoIP Service"
MANUAL_SUSPEND = "Manual VoIP Suspend"
VOIP_SUSPENDED = "VoIP Suspended"
LOW_BALANCE_THRESHOLD = "Low Balance Threshold"

YES = "Yes"
NO = "No"
NONE = "None"

# tblhosting.suspendreason of a service the autosuspend job suspended; only such services are
# ever unsuspended by the job.
AUTO_SUSPEND_PREFIX = "VoIP auto-suspend"
ZERO_BALANCE_REASON = f"{AUTO_SUSPEND_PREFIX}: no credit or unpaid invoices"
MANUAL_REASON = f"{AUTO_SUSPEND_PREFIX}: Manual VoIP Suspend is Yes"


def suspended_by_the_bridge(suspend_reason: str) -> bool:
    """Tell whether a service's suspend reason is one the autosuspend job wrote."""
    return suspend_reason.startswith(AUTO_SUSPEND_PREFIX)
