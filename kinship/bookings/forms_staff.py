"""Forms for the staff booking pages. They check shape only; the rules (DSO 7, PF 4.3, PF 4.8 ...) are decided by
the services and the policy engine, whose reasons are added back to the form with their citations."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms

from kinship.core.forms import GovukDateField
from kinship.establishments.models import Establishment, Room
from kinship.people.models import ContactLink

from .errors import BookingRefused
from .forms_preferences import PreferencesForm
from .models import CallKind, ExtraCallReason, RejectionReason, Slot, Weekday
from .services_staff import MoveKind

TIME_FORMATS = ["%H:%M", "%H.%M", "%H%M"]

CHANNELS = [
    ("residents", "The person in custody may request"),
    ("contacts", "Contacts may request"),
    ("staff", "Staff may book on the person's behalf"),
]


def add_refusal(form: forms.Form, refusal: BookingRefused) -> None:
    """Each reason of a refusal on its field where the form has it, otherwise at the top, with its citation."""
    for problem in refusal.problems:
        form.add_error(problem.field if problem.field in form.fields else None, problem.message)


def _time(label: str, hint: str = "") -> forms.TimeField:
    return forms.TimeField(
        label=label,
        help_text=hint or "Use the 24-hour clock, for example 14:30",
        input_formats=TIME_FORMATS,
        error_messages={
            "required": f"Enter the time ({label.lower()})",
            "invalid": "Enter a time on the 24-hour clock, like 14:30",
        },
    )


class RoomChoiceField(forms.ModelChoiceField[Room]):
    def label_from_instance(self, obj: Room) -> str:
        return obj.name


class SessionForm(forms.Form):
    room = RoomChoiceField(
        label="Room", queryset=Room.objects.none(), error_messages={"required": "Select the room"}
    )
    weekday = forms.TypedChoiceField(
        label="Day of the week",
        choices=Weekday.choices,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the day of the week"},
    )
    start = _time("Starts")
    end = _time("Ends")
    slot_minutes = forms.IntegerField(
        label="Length of each call, in minutes",
        help_text="Immigration detention: 30 to 60 minutes (DSO Annex A).",
        widget=forms.NumberInput,
        error_messages={
            "required": "Enter the length of each call",
            "invalid": "Length of each call must be a whole number of minutes, like 30",
        },
    )
    valid_from = GovukDateField(label="Valid from", help_text="For example, 27 3 2027")
    valid_to = GovukDateField(
        label="Valid until", required=False, help_text="Leave empty if it has no end date"
    )
    channels = forms.MultipleChoiceField(
        label="Who may use this session (PF 4.6)",
        choices=CHANNELS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    legal_reserved = forms.BooleanField(
        label="Reserved for calls with legal advisers (DSO 9)", required=False
    )

    def __init__(self, *args: Any, establishment: Establishment, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["room"].queryset = Room.objects.filter(establishment=establishment, active=True)  # type: ignore[attr-defined]


class ClosedDateForm(forms.Form):
    day = GovukDateField(label="Date", help_text="For example, 25 12 2027")
    room = RoomChoiceField(
        label="Room",
        queryset=Room.objects.none(),
        required=False,
        empty_label="The whole establishment",
    )
    reason = forms.CharField(
        label="Reason", max_length=200, error_messages={"required": "Enter why the date is closed"}
    )

    def __init__(self, *args: Any, establishment: Establishment, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["room"].queryset = Room.objects.filter(establishment=establishment)  # type: ignore[attr-defined]


class RosterForm(forms.Form):
    room = RoomChoiceField(
        label="Room", queryset=Room.objects.none(), error_messages={"required": "Select the room"}
    )
    day = GovukDateField(label="Date", help_text="For example, 3 3 2027")
    start = _time("From")
    end = _time("Until")
    supervising_officers = forms.IntegerField(
        label="Supervising officers",
        min_value=0,
        initial=1,
        widget=forms.NumberInput,
        error_messages={
            "required": "Enter the number of supervising officers",
            "invalid": "Supervising officers must be a whole number, like 1",
            "min_value": "Supervising officers must be 0 or more",
        },
    )
    monitoring_officers = forms.IntegerField(
        label="Monitoring officers",
        min_value=0,
        initial=1,
        help_text="In prisons each monitoring officer watches a limited number of calls at once (PF 4.7).",
        widget=forms.NumberInput,
        error_messages={
            "required": "Enter the number of monitoring officers",
            "invalid": "Monitoring officers must be a whole number, like 1",
            "min_value": "Monitoring officers must be 0 or more",
        },
    )

    def __init__(self, *args: Any, establishment: Establishment, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["room"].queryset = Room.objects.filter(establishment=establishment, active=True)  # type: ignore[attr-defined]


class RejectForm(forms.Form):
    reason = forms.ChoiceField(
        label="Why is the request turned down?",
        choices=RejectionReason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select why the request is turned down"},
    )
    text = forms.CharField(
        label="More detail for the family",
        required=False,
        widget=forms.Textarea,
        help_text="Needed when the reason is another reason.",
    )


class ReviewCloseForm(forms.Form):
    outcome = forms.ChoiceField(
        label="What happened?",
        choices=[
            ("rebooked", "Rebooked: link the new booking"),
            ("not_rebooked", "Not rebooked, or the call goes ahead as booked: give the reason"),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether the call was rebooked"},
    )
    new_booking = forms.CharField(
        label="Reference of the new booking",
        required=False,
        max_length=12,
        help_text="Needed when it was rebooked: a call for the same person in custody, for example HX4K7P2M",
    )
    reason = forms.CharField(
        label="Why it was not rebooked, or why the call still goes ahead",
        required=False,
        widget=forms.Textarea,
        help_text="Needed when it was not rebooked.",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("outcome") == "rebooked" and not data.get("new_booking", "").strip():
            self.add_error("new_booking", "PF 4.8: Enter the reference of the new booking")
        if data.get("outcome") == "not_rebooked" and not data.get("reason", "").strip():
            self.add_error("reason", "PF 4.8: Enter why the call was not rebooked")
        return data


class CancelForm(forms.Form):
    reason = forms.CharField(
        label="Why is the call cancelled?",
        widget=forms.Textarea,
        help_text="The family is told this reason (PF 4.8).",
        error_messages={"required": "Say why the call is cancelled"},
    )


class GrantForm(forms.Form):
    reason = forms.ChoiceField(
        label="Reason for the extra call (PF 4.3)",
        choices=ExtraCallReason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the reason for the extra call"},
    )
    notes = forms.CharField(
        label="Details",
        required=False,
        widget=forms.Textarea,
        help_text="Needed for another exceptional reason.",
    )


class StaffRequestForm(PreferencesForm):
    """A request staff make on a person's behalf (PF 4.6: it counts as the person's request), with up to two
    more times in order of preference, tried in turn when the first is fully booked."""

    whose = "The"
    field_order = ["slot", "second", "third", "lead_contact", "participants", "kind", "use_extra_grant"]

    slot = forms.ChoiceField(
        label="Time",
        error_messages={
            "required": "Select a time",
            "invalid_choice": "This time is no longer available. Select another time",
        },
    )
    lead_contact = forms.ChoiceField(
        label="Main caller",
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select the main caller",
            "invalid_choice": "Select the main caller from the approved list",
        },
        help_text="An adult on the person's approved list (PF 4.12, PF 4.14).",
    )
    participants = forms.MultipleChoiceField(
        label="Others joining from outside (PF 4.13)",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    kind = forms.ChoiceField(
        label="Kind of call",
        choices=CallKind.choices,
        initial=CallKind.SOCIAL,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the kind of call"},
    )
    use_extra_grant = forms.BooleanField(label="Use an extra call grant (PF 4.3)", required=False)

    def __init__(
        self, *args: Any, slots: Iterable[Slot], links: Iterable[ContactLink], tz: Any, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["slot"].choices = [("", "Select a time")] + [  # type: ignore[attr-defined]
            (
                str(slot.pk),
                f"{slot.starts_at.astimezone(tz):%A %-d %B %Y, %H:%M} to {slot.ends_at.astimezone(tz):%H:%M}, "
                f"{slot.room.name} ({slot.places_left} left)",  # type: ignore[attr-defined]
            )
            for slot in slots
        ]
        self.set_preference_choices(self.fields["slot"].choices)  # type: ignore[attr-defined]
        people = [(str(link.contact_id), f"{link.contact.full_name} ({link.relationship})") for link in links]
        self.fields["lead_contact"].choices = people  # type: ignore[attr-defined]
        self.fields["participants"].choices = people  # type: ignore[attr-defined]


class ResidentMoveForm(forms.Form):
    kind = forms.ChoiceField(
        label="What happened?",
        choices=MoveKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether the person was released or transferred"},
    )
    to_establishment = forms.ModelChoiceField(
        label="Transferred to",
        queryset=Establishment.objects.none(),
        required=False,
        empty_label="Select an establishment",
        help_text="Only for a transfer.",
    )
    note = forms.CharField(
        label="Details",
        widget=forms.Textarea,
        help_text="Shown on the review of each of their future calls (PF 4.8).",
        error_messages={"required": "Enter what happened, for the review of their calls"},
    )

    def __init__(self, *args: Any, establishment: Establishment, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_establishment"].queryset = Establishment.objects.filter(active=True).exclude(  # type: ignore[attr-defined]
            pk=establishment.pk
        )
