"""The audit log is append-only and tamper-evident."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.utils import DatabaseError

from kinship.accounts.models import User
from kinship.audit.models import AuditChainHead, AuditEvent, AuditImmutableError
from kinship.audit.services import audit_record, audit_verify
from kinship.audit.triggers import drop_triggers
from kinship.core import request_context

pytestmark = pytest.mark.django_db


def _three_events() -> list[AuditEvent]:
    return [
        audit_record(
            action="resident_created", subject_type="people.resident", subject_id="1", after={"name": "A"}
        ),
        audit_record(
            action="compact_signed", subject_type="people.resident", subject_id="1", policy_ids=["PF 4.9"]
        ),
        audit_record(action="resident_viewed", subject_type="people.resident", subject_id="1"),
    ]


def _drop_triggers() -> None:
    """What someone with direct database rights could do before tampering (rolled back with the test)."""
    drop_triggers(connection)


def test_events_chain_from_genesis_and_verify() -> None:
    events = _three_events()
    assert events[0].prev_hash == "0" * 64
    assert events[1].prev_hash == events[0].hash
    assert events[2].prev_hash == events[1].hash
    assert list(audit_verify()) == []
    head = AuditChainHead.objects.get()
    assert head.last_hash == events[2].hash
    assert head.last_event_id == events[2].pk


def test_event_carries_request_context_and_policy_ids() -> None:
    token = request_context.activate(
        request_context.RequestContext(request_id="req-12345678", ip_address="10.1.2.3")
    )
    try:
        event = audit_record(action="x", policy_ids=["PF 4.13", "PF 4.1", "PF 4.13"])
    finally:
        request_context.deactivate(token)
    event.refresh_from_db()
    assert event.request_id == "req-12345678"
    assert event.ip_address == "10.1.2.3"
    assert event.policy_ids == ["PF 4.1", "PF 4.13"]
    assert event.actor_label == "system"


def test_the_model_refuses_updates_and_deletes() -> None:
    event = _three_events()[0]
    event.action = "something_else"
    with pytest.raises(AuditImmutableError):
        event.save()
    with pytest.raises(AuditImmutableError):
        event.delete()


def test_the_database_refuses_updates_and_deletes_even_through_queryset() -> None:
    _three_events()
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(action="compact_signed").update(action="nothing_to_see")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(action="compact_signed").delete()
    assert list(audit_verify()) == []


def test_a_changed_event_is_detected_by_audit_verify() -> None:
    events = _three_events()
    _drop_triggers()
    AuditEvent.objects.filter(pk=events[1].pk).update(after={"forged": True})
    problems = list(audit_verify())
    assert [p.event_id for p in problems] == [events[1].pk]
    with pytest.raises(CommandError, match="failed verification"):
        call_command("audit_verify")


def test_a_removed_event_is_detected() -> None:
    events = _three_events()
    _drop_triggers()
    AuditEvent.objects.filter(pk=events[1].pk).delete()
    problems = list(audit_verify())
    assert [p.event_id for p in problems] == [events[2].pk]


def test_removing_the_newest_events_is_detected() -> None:
    events = _three_events()
    _drop_triggers()
    AuditEvent.objects.filter(pk=events[2].pk).delete()
    problems = list(audit_verify())
    assert [p.event_id for p in problems] == [None]


def test_audit_verify_command_passes_on_an_intact_chain(capsys: pytest.CaptureFixture[str]) -> None:
    _three_events()
    call_command("audit_verify")
    assert "3 events, chain intact" in capsys.readouterr().out


def test_an_event_rolls_back_with_the_change_it_records() -> None:
    def change_that_fails() -> None:
        with transaction.atomic():
            audit_record(action="will_roll_back")
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        change_that_fails()
    assert not AuditEvent.objects.filter(action="will_roll_back").exists()
    assert list(audit_verify()) == []


def test_the_admin_can_read_but_not_add_change_or_delete(staff_client) -> None:  # type: ignore[no-untyped-def]
    event = _three_events()[0]
    superuser = User.objects.create_superuser(email="root@example.org", password="a long test password")
    client = staff_client(superuser)
    assert client.get(f"/back-office/audit/auditevent/{event.pk}/change/").status_code == 200
    assert client.get("/back-office/audit/auditevent/add/").status_code == 403
    assert client.get(f"/back-office/audit/auditevent/{event.pk}/delete/").status_code == 403
    response = client.post(f"/back-office/audit/auditevent/{event.pk}/change/", {"action": "forged"})
    assert response.status_code == 403
    event.refresh_from_db()
    assert event.action == "resident_created"
