"""Forms of the supervising officer's pages. Each action is a POST with CSRF; refusals come back on the form with
their citations."""

from __future__ import annotations

from django import forms

from .errors import CallRefused
from .models import TerminationReason

#: The actions of the call page (one form, one button each).
ACTIONS = (
    "check_in_resident",
    "check_in_officer",
    "adult_check",
    "start",
    "pause",
    "resume",
    "end",
    "end_no_fault",
    "technical_failure",
    "no_show",
)


class CallActionForm(forms.Form):
    action = forms.ChoiceField(choices=[(action, action) for action in ACTIONS], widget=forms.HiddenInput)
    reason = forms.CharField(
        label="Why are you pausing the call?",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    note = forms.CharField(
        label="What happened (optional)",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class TerminateForm(forms.Form):
    reason = forms.ChoiceField(
        label="Why are you ending the call?",
        choices=TerminationReason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "DSO 11: Select the reason for ending the call"},
    )
    details = forms.CharField(
        label="What happened, and your concerns",
        help_text="This goes to the security team in an incident report (DSO 12, DSO 19).",
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=5000,
        error_messages={"required": "DSO 19: Record what happened and your concerns for the incident report"},
    )
    body_worn_camera_used = forms.BooleanField(label="A body-worn camera was used (DSO 11)", required=False)


def add_refusal(form: forms.Form, refusal: CallRefused) -> None:
    """Each reason on its field where the form has it, otherwise at the top, with its citation."""
    for problem in refusal.problems:
        form.add_error(problem.field if problem.field in form.fields else None, problem.message)
