"""The staff roles. A person may hold several, each at one or more establishments; every view names the roles
it admits and everything else is refused (deny by default)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    BOOKING_CLERK = "booking_clerk", _("Booking clerk")
    SUPERVISING_OFFICER = "supervising_officer", _("Supervising officer")
    MONITORING_OFFICER = "monitoring_officer", _("Monitoring officer")
    SECURITY = "security", _("Security")
    GOVERNOR = "governor", _("Governor or centre manager")
    COMPLIANCE_MANAGER = "compliance_manager", _("Compliance manager")
    DATA_PROTECTION_OFFICER = "data_protection_officer", _("Data protection officer")
    SYSTEM_ADMINISTRATOR = "system_administrator", _("System administrator")


ALL_ROLES: frozenset[Role] = frozenset(Role)

# Who may read the core records of people in custody and their contacts.
RECORD_READERS: frozenset[Role] = frozenset(
    {
        Role.BOOKING_CLERK,
        Role.SUPERVISING_OFFICER,
        Role.SECURITY,
        Role.GOVERNOR,
        Role.COMPLIANCE_MANAGER,
        Role.DATA_PROTECTION_OFFICER,
    }
)
# Who may change them (compacts, risk assessments, contact approvals, resident details).
RECORD_EDITORS: frozenset[Role] = frozenset({Role.BOOKING_CLERK, Role.SECURITY, Role.GOVERNOR})
# Who may change an establishment's settings, rooms and terminals.
ESTABLISHMENT_ADMINS: frozenset[Role] = frozenset({Role.GOVERNOR, Role.SYSTEM_ADMINISTRATOR})
