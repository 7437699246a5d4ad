"""The demo data behind `make run`: one establishment of each profile, a log-in for every role, idempotent."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from kinship.accounts.models import StaffRole, User, UserKind
from kinship.audit.services import audit_verify
from kinship.core.roles import Role
from kinship.establishments.models import Establishment
from kinship.people.models import ContactLink, Resident

pytestmark = pytest.mark.django_db


def _load() -> str:
    out = StringIO()
    with override_settings(DEVELOPMENT=True):
        call_command("load_demo", stdout=out)
    return out.getvalue()


def test_demo_has_every_profile_every_role_and_flagged_residents() -> None:
    output = _load()
    assert set(Establishment.objects.values_list("profile", flat=True)) == {
        "prison",
        "youth_custody",
        "immigration_detention",
    }
    assert set(StaffRole.objects.values_list("role", flat=True)) == {role.value for role in Role}
    for flag in (
        "e_list",
        "pprc",
        "harassment_measures",
        "imminent_removal_directions",
        "large_family_exception",
    ):
        assert Resident.objects.filter(**{flag: True}).exists(), flag
    assert ContactLink.objects.filter(status="approved").exists()
    assert User.objects.filter(kind=UserKind.CONTACT).count() >= 5
    # The printed log-ins are the ones that exist.
    for role in Role:
        assert f"{role.value.replace('_', '.')}@demo.kinship.test" in output
    assert "kinship-demo-only" in output


def test_loading_twice_creates_nothing_new() -> None:
    _load()
    counts = (Establishment.objects.count(), Resident.objects.count(), User.objects.count())
    output = _load()
    assert "(0 records created)" in output
    assert counts == (Establishment.objects.count(), Resident.objects.count(), User.objects.count())
    assert list(audit_verify()) == []


def test_refuses_outside_development() -> None:
    with override_settings(DEVELOPMENT=False), pytest.raises(CommandError, match="development"):
        call_command("load_demo", stdout=StringIO())
