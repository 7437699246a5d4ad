"""Forms for establishment settings, rooms and terminals. They check shape only (a number is a number); what
the policies allow is checked by the policy engine in the service, and its refusals are added back here."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from .models import (
    AllowancePattern,
    Establishment,
    EstablishmentType,
    Profile,
    Room,
    TerminalKind,
    WhoMayRequest,
    _timezone_choices,
)


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: each message on its field where the form has that field,
    otherwise at the top of the error summary."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            target = field if field in form.fields else None
            for item in errors:
                form.add_error(target, item.messages[0] if hasattr(item, "messages") else str(item))
    else:
        for message in error.messages:
            form.add_error(None, message)


class EstablishmentSettingsForm(forms.Form):
    who_may_request = forms.ChoiceField(
        label="Who may ask for a call (PF 4.6)",
        choices=WhoMayRequest.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select who may ask for a call"},
    )
    allowance_pattern = forms.ChoiceField(
        label="Monthly allowance at public expense (PF 4.1)",
        choices=AllowancePattern.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the monthly allowance"},
    )
    max_outside_participants = forms.IntegerField(
        label="Most people who may join a call from outside (PF 4.13)",
        help_text="A governor-approved large family exception raises this for one person.",
        widget=forms.NumberInput,
        error_messages={
            "required": "Enter how many people may join from outside",
            "invalid": "Number of people must be a whole number, like 4",
        },
    )
    cancellation_notice_hours = forms.IntegerField(
        label="Notice the establishment gives when it cancels a call, in hours (PF 4.8)",
        widget=forms.NumberInput,
        error_messages={
            "required": "Enter the hours of notice",
            "invalid": "Hours of notice must be a whole number, like 24",
        },
    )
    calls_per_monitoring_officer = forms.IntegerField(
        label="Calls one monitoring officer may watch at once (PF 4.7)",
        widget=forms.NumberInput,
        error_messages={
            "required": "Enter how many calls one monitoring officer may watch",
            "invalid": "Number of calls must be a whole number, like 4",
        },
    )
    slot_lengths = forms.CharField(
        label="Call lengths offered, in minutes",
        help_text="Separate lengths with commas, for example 30, 60.",
        error_messages={"required": "Enter at least one call length"},
    )
    safer_custody_hotline = forms.CharField(
        label="Safer custody hotline (PF 4.19)",
        help_text="Shown to families on every page and message about calls.",
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "tel"}),
    )

    def __init__(self, *args: Any, establishment: Establishment, **kwargs: Any) -> None:
        self.establishment = establishment
        if not kwargs.get("data") and not (args and args[0]):
            kwargs.setdefault(
                "initial",
                {
                    "who_may_request": establishment.who_may_request,
                    "allowance_pattern": establishment.allowance_pattern,
                    "max_outside_participants": establishment.max_outside_participants,
                    "cancellation_notice_hours": establishment.cancellation_notice_hours,
                    "calls_per_monitoring_officer": establishment.calls_per_monitoring_officer,
                    "slot_lengths": ", ".join(str(length) for length in establishment.slot_lengths),
                    "safer_custody_hotline": establishment.safer_custody_hotline,
                },
            )
        super().__init__(*args, **kwargs)
        if establishment.profile == Profile.IMMIGRATION_DETENTION:
            # PF 4.1 applies to prison profiles only; immigration detention has no set allowance (DSO 3).
            del self.fields["allowance_pattern"]

    def clean_slot_lengths(self) -> list[int]:
        raw = self.cleaned_data["slot_lengths"]
        parts = [part.strip() for part in raw.replace(";", ",").split(",") if part.strip()]
        if not parts or not all(part.isdigit() for part in parts):
            raise ValidationError("Enter call lengths as whole numbers of minutes, separated by commas")
        return sorted({int(part) for part in parts})


class EstablishmentCreateForm(forms.Form):
    name = forms.CharField(
        label="Name", max_length=200, error_messages={"required": "Enter the establishment's name"}
    )
    code = forms.CharField(
        label="Code",
        max_length=20,
        help_text="The establishment's short code, for example BXI.",
        error_messages={"required": "Enter the establishment's code"},
    )
    type = forms.ChoiceField(
        label="Type of establishment",
        choices=EstablishmentType.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the type of establishment"},
    )
    profile = forms.ChoiceField(
        label="Profile",
        help_text="The profile decides which rules apply.",
        choices=Profile.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the profile"},
    )
    timezone = forms.ChoiceField(label="Time zone", choices=_timezone_choices, initial="Europe/London")
    safer_custody_hotline = forms.CharField(
        label="Safer custody hotline (PF 4.19)", max_length=100, required=False
    )

    def clean_code(self) -> str:
        code = str(self.cleaned_data["code"]).strip().upper()
        if not code.isalnum():
            raise ValidationError("Code must only include letters and numbers")
        if Establishment.objects.filter(code=code).exists():
            raise ValidationError("There is already an establishment with this code")
        return code


class RoomForm(forms.Form):
    name = forms.CharField(
        label="Room name", max_length=100, error_messages={"required": "Enter the room name"}
    )
    accessible = forms.BooleanField(
        label="Accessible: step-free and usable by someone with a physical need (PF 4.24)", required=False
    )
    active = forms.BooleanField(label="In use", required=False, initial=True)

    @classmethod
    def for_room(cls, room: Room, data: Any = None) -> RoomForm:
        return cls(data, initial={"name": room.name, "accessible": room.accessible, "active": room.active})


class TerminalForm(forms.Form):
    name = forms.CharField(
        label="Terminal name", max_length=100, error_messages={"required": "Enter the terminal name"}
    )
    kind = forms.ChoiceField(
        label="Kind of terminal",
        choices=TerminalKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the kind of terminal"},
    )
    room = forms.ModelChoiceField(
        label="Room", queryset=Room.objects.none(), required=False, empty_label="No room"
    )
    active = forms.BooleanField(label="In use", required=False, initial=True)

    def __init__(
        self, *args: Any, establishment: Establishment, editing: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        room_field = self.fields["room"]
        assert isinstance(room_field, forms.ModelChoiceField)
        room_field.queryset = Room.objects.filter(establishment=establishment, active=True).order_by("name")
        if editing:
            # A terminal's kind is fixed when it is added: a resident terminal never becomes a monitoring one.
            del self.fields["kind"]
        else:
            del self.fields["active"]


class RevokeTerminalForm(forms.Form):
    reason = forms.CharField(
        label="Why are you revoking this terminal?",
        widget=forms.Textarea,
        max_length=1000,
        error_messages={"required": "Enter why you are revoking this terminal"},
    )


class RegisterDeviceForm(forms.Form):
    code = forms.CharField(
        label="Registration code",
        help_text="The 8-character code shown when the terminal's code was issued, for example ABCD-EFGH.",
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        error_messages={"required": "Enter the registration code"},
    )
