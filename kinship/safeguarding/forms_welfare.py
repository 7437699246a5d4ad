"""Forms for incidents and wellbeing follow-ups. They check shape; the services check the rules."""

from __future__ import annotations

from django import forms

from .models import IncidentReason, IncidentStatus

YES_NO = [("yes", "Yes"), ("no", "No")]


class _PersonAndCall(forms.Form):
    identifier = forms.CharField(
        label="Prison number or Home Office reference",
        max_length=32,
        help_text="For example A1234BC.",
        error_messages={"required": "Enter the prison number or Home Office reference"},
    )
    booking_reference = forms.CharField(
        label="Call reference (optional)",
        max_length=9,
        required=False,
        help_text="The reference of the call it followed, if there was one.",
    )

    def clean_identifier(self) -> str:
        return str(self.cleaned_data["identifier"]).strip().upper()

    def clean_booking_reference(self) -> str:
        return str(self.cleaned_data["booking_reference"]).strip().upper()


class IncidentForm(_PersonAndCall):
    reason = forms.ChoiceField(
        label="What was the breach or risk? (DSO 11, DSO Annex A)",
        choices=IncidentReason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "DSO 11: Select the reason"},
    )
    details = forms.CharField(
        label="What happened (DSO 19)",
        widget=forms.Textarea,
        help_text="What you saw and heard, and what you did.",
        error_messages={"required": "DSO 19: Enter what happened"},
    )
    body_worn_camera_used = forms.BooleanField(label="A body-worn camera was used", required=False)
    body_worn_camera_reference = forms.CharField(
        label="Footage reference (optional)", max_length=100, required=False
    )


class IncidentUpdateForm(forms.Form):
    status = forms.ChoiceField(
        label="Status",
        choices=IncidentStatus.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the status"},
    )
    note = forms.CharField(
        label="Note",
        widget=forms.Textarea,
        required=False,
        help_text="What was done. When closing, the outcome.",
    )
    police_referral = forms.BooleanField(label="Marked for police referral (DSO Annex A)", required=False)
    police_reference = forms.CharField(label="Police reference", max_length=64, required=False)
    body_worn_camera_used = forms.BooleanField(label="A body-worn camera was used", required=False)
    body_worn_camera_reference = forms.CharField(label="Footage reference", max_length=100, required=False)
    ban_considered = forms.BooleanField(
        label="A ban from booking future calls was considered (DSO Annex A)", required=False
    )


class WellbeingConcernForm(_PersonAndCall):
    observation = forms.CharField(
        label="What did you see? (PF 4.17)",
        widget=forms.Textarea,
        help_text="How the call seemed to affect the person.",
        error_messages={"required": "PF 4.17: Enter what you saw"},
    )
    acct_referral_noted = forms.BooleanField(
        label="An ACCT referral has been made or should be considered", required=False
    )


class WellbeingCloseForm(forms.Form):
    outcome = forms.CharField(
        label="Outcome (PF 4.18)",
        widget=forms.Textarea,
        error_messages={"required": "PF 4.18: Enter the outcome"},
    )
    acct_opened = forms.ChoiceField(
        label="Was an ACCT opened?",
        choices=YES_NO,
        widget=forms.RadioSelect,
        error_messages={"required": "PF 4.18: Say whether an ACCT was opened"},
    )


class WingForm(forms.Form):
    location = forms.CharField(label="Wing or location", max_length=100, required=False)
