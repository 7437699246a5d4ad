"""The second and third choices of a booking request (issue 4: up to three preferences), shared by the contact's,
the resident terminal's and the staff request forms. The first choice is each form's own ``slot`` field."""

from __future__ import annotations

from typing import Any

from django import forms


class PreferencesForm(forms.Form):
    """Adds optional ``second`` and ``third`` choices, checked against the first and each other. Subclasses
    declare ``slot`` and call ``set_preference_choices`` with the same times ``slot`` offers."""

    #: Whose choices the messages speak of: "Your" to the person choosing, "The" on staff pages.
    whose = "Your"

    second = forms.ChoiceField(label="Second choice (optional)", required=False)
    third = forms.ChoiceField(label="Third choice (optional)", required=False)

    def set_preference_choices(self, choices: list[tuple[str, str]]) -> None:
        times = [(value, label) for value, label in choices if value]
        for name in ("second", "third"):
            field = self.fields[name]
            field.choices = [("", f"No {name} choice"), *times]  # type: ignore[attr-defined]
            field.error_messages["invalid_choice"] = (
                f"{self.whose} {name} choice is no longer available. Select another time"
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, second, third = data.get("slot"), data.get("second"), data.get("third")
        whose = self.whose
        if second and second == first:
            self.add_error(
                "second", f"{whose} second choice must be a different time from {whose.lower()} first choice"
            )
        if third and not second and "second" not in self.errors:
            self.add_error("third", "Select a second choice before a third choice, or leave the third empty")
        elif third and third in {first, second}:
            self.add_error(
                "third", f"{whose} third choice must be a different time from {whose.lower()} other choices"
            )
        return data

    @property
    def alternatives(self) -> list[str]:
        """The second and third choices given, in order (after ``is_valid``)."""
        return [value for value in (self.cleaned_data.get("second"), self.cleaned_data.get("third")) if value]
