"""Forms for the contact request pages, the contact's cancellation, and the resident terminal (identifying with a
PIN, requesting a call) plus the staff page that sets a PIN. Choices are built by the view from selectors, so a
form never offers anything the person may not choose."""

from __future__ import annotations

from typing import Any

from django import forms

from .forms_preferences import PreferencesForm
from .services_contact import PIN_PATTERN


class PersonForm(forms.Form):
    resident = forms.ChoiceField(
        label="Who do you want to call?",
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select the person in custody you want to call",
            "invalid_choice": "Select the person in custody you want to call",
        },
    )

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["resident"].choices = choices  # type: ignore[attr-defined]


class SlotForm(PreferencesForm):
    """A time, and optionally a second and third choice (issue 4: up to three preferences). The page lists the
    times grouped by day, so the template renders the radios and the selects itself."""

    field_order = ["slot", "second", "third"]

    slot = forms.ChoiceField(
        label="Choose a time",
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select a time for the call",
            "invalid_choice": "That time is no longer available. Select another time",
        },
    )

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["slot"].choices = choices  # type: ignore[attr-defined]
        self.set_preference_choices(choices)


class ParticipantsForm(forms.Form):
    participants = forms.MultipleChoiceField(
        label="Who else will join the call?",
        required=False,
        error_messages={"invalid_choice": "Select only people on the approved contact list"},
        widget=forms.CheckboxSelectMultiple,
        help_text="Select everyone who will join with you. Leave them all unselected if it is just you.",
    )

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["participants"].choices = choices  # type: ignore[attr-defined]


class CancelForm(forms.Form):
    reason = forms.CharField(
        label="Why are you cancelling the call?",
        help_text="We tell the establishment and everyone on the call (PF 4.8).",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=500,
        error_messages={"required": "Enter why you are cancelling the call"},
    )
    confirm = forms.CharField(required=False, widget=forms.HiddenInput)


class PinSignInForm(forms.Form):
    identifier = forms.CharField(
        label="Your prison number or Home Office reference",
        help_text="For example, A1234BC",
        max_length=32,
        error_messages={"required": "Enter your prison number or Home Office reference"},
    )
    pin = forms.CharField(
        label="Your PIN",
        max_length=8,
        widget=forms.PasswordInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        error_messages={"required": "Enter your PIN"},
    )


class ResidentRequestForm(PreferencesForm):
    """A call asked for at a resident terminal: who, a time, and optionally a second and third choice."""

    field_order = ["contact", "slot", "second", "third"]

    contact = forms.ChoiceField(
        label="Who do you want to call?",
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select who you want to call",
            "invalid_choice": "Select someone on your approved contact list",
        },
    )
    slot = forms.ChoiceField(
        label="Choose a time",
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select a time for the call",
            "invalid_choice": "That time is no longer available. Select another time",
        },
    )
    confirm = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        contact_choices: list[tuple[str, str]],
        slot_choices: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contact"].choices = contact_choices  # type: ignore[attr-defined]
        self.fields["slot"].choices = slot_choices  # type: ignore[attr-defined]
        self.set_preference_choices(slot_choices)


class PinSetForm(forms.Form):
    pin = forms.CharField(
        label="New PIN",
        help_text="4 to 8 numbers. Tell the person their PIN in private.",
        max_length=8,
        widget=forms.PasswordInput(attrs={"inputmode": "numeric", "autocomplete": "new-password"}),
        error_messages={"required": "Enter a new PIN"},
    )
    pin_again = forms.CharField(
        label="Enter the PIN again",
        max_length=8,
        widget=forms.PasswordInput(attrs={"inputmode": "numeric", "autocomplete": "new-password"}),
        error_messages={"required": "Enter the PIN again"},
    )

    def clean_pin(self) -> str:
        pin: str = self.cleaned_data["pin"].strip()
        if not PIN_PATTERN.match(pin):
            raise forms.ValidationError("Enter a PIN of 4 to 8 numbers")
        return pin

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("pin") and data.get("pin_again") is not None and data["pin"] != data["pin_again"].strip():
            self.add_error("pin_again", "The PINs do not match. Enter the same PIN twice")
        return data
