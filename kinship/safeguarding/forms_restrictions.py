"""Forms for restrictions, suspensions and appeals. Policy refusals come back from the services with their
citations and are placed on their field (``add_refusal``)."""

from __future__ import annotations

from django import forms

from kinship.core.forms import GovukDateField

from .models import AppealDecision, RestrictionKind, Rule34Ground, SuspensionReason
from .services_restrictions import SafeguardingRefused

FIELD_ALIASES = {"necessity": "necessity_and_proportionality", "review_on": "review_on", "end": "review_on"}


def add_refusal(form: forms.Form, refusal: SafeguardingRefused) -> None:
    for problem in refusal.problems:
        name = FIELD_ALIASES.get(problem.field or "", problem.field)
        form.add_error(name if name in form.fields else None, problem.message)


class RestrictionForm(forms.Form):
    kind = forms.ChoiceField(
        label="What does the restriction do?",
        choices=RestrictionKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select what the restriction does"},
    )
    ground = forms.ChoiceField(
        label="Ground (Prison Rule 34 / YOI Rule 9)",
        choices=Rule34Ground.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the ground"},
    )
    max_participants = forms.IntegerField(
        label="Most people who may join from outside", required=False, min_value=1, max_value=10
    )
    max_call_minutes = forms.IntegerField(label="Longest call, in minutes", required=False, min_value=5)
    dedicated_monitor = forms.BooleanField(label="Calls need a dedicated monitoring officer", required=False)
    rationale = forms.CharField(label="Why is the restriction needed?", widget=forms.Textarea, required=False)
    necessity_and_proportionality = forms.CharField(
        label="Why is it necessary and proportionate?", widget=forms.Textarea, required=False
    )
    review_on = GovukDateField(label="Review date", error_messages={"required": "Enter the review date"})


class SuspensionForm(forms.Form):
    reason = forms.ChoiceField(
        label="Reason for the suspension",
        choices=SuspensionReason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the reason"},
    )
    details = forms.CharField(
        label="What happened", widget=forms.Textarea, required=False, help_text="The detainee is given this."
    )
    days = forms.IntegerField(
        label="Length in days",
        min_value=1,
        max_value=365,
        error_messages={"required": "Enter the length in days", "min_value": "Enter at least 1 day"},
    )


class AuthoriseForm(forms.Form):
    note = forms.CharField(label="Note (optional)", widget=forms.Textarea, required=False)


class SuspensionReviewForm(forms.Form):
    outcome = forms.ChoiceField(
        label="Outcome",
        choices=[("continue", "Continue the suspension"), ("lift", "Lift it now")],
        widget=forms.RadioSelect,
        error_messages={"required": "Select the outcome"},
    )
    notes = forms.CharField(label="What the review considered", widget=forms.Textarea, required=False)


class AppealForm(forms.Form):
    text = forms.CharField(label="The appeal as written", widget=forms.Textarea, required=False)


class AppealDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label="Decision",
        choices=[c for c in AppealDecision.choices if c[0] != AppealDecision.VARIED],
        widget=forms.RadioSelect,
        error_messages={"required": "Select the decision"},
    )
    reasons = forms.CharField(label="Reasons", widget=forms.Textarea, required=False)
