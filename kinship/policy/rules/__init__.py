"""The rules, grouped by topic. Importing this package registers every rule (see ``registry``).

=================
============================================================================================= module
owns =================
=============================================================================================
``establishment``  which establishments may run the service, schedules, the hotline (DSO 1, 3, 7; PF 4.2,
4.19) ``access``         compact, risk assessments, restrictions, scope, contact terms (PF 4.4, 4.9, 4.11,
4.15, 5.1; DSO 10, 14, 15) ``participants``   who may join a call (PF 4.10, 4.12, 4.13, 4.14, 4.16)
``allowance``      the monthly allowance and extra calls (PF 4.1, 4.3) ``booking``        requests, staffing,
notice, rooms, support, legal priority, slot lengths (PF 4.5 to 4.8, 4.22, 4.24; DSO 9, Annex A) ``calls``
starting, running, monitoring and ending calls (PF 4.7, 4.21 to 4.23; DSO 8, 9, 11, 12, 19) ``safeguarding``
suspensions, appeals, wellbeing follow-ups (DSO 17, 18; PF 4.17, 4.18) ``records``        recording,
retention, deletion (PF 1.3, 4.20; DSO Annex A) =================
=============================================================================================
"""

from kinship.policy.rules import (
    access,
    allowance,
    booking,
    calls,
    establishment,
    participants,
    records,
    safeguarding,
)

__all__ = [
    "access",
    "allowance",
    "booking",
    "calls",
    "establishment",
    "participants",
    "records",
    "safeguarding",
]
