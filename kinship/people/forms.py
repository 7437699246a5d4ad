"""Forms for the records about people. Shapes only; the services check the rules."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from kinship.core.forms import GovukDateField

from .models import (
    CompactKind,
    CompactOutcome,
    CompactText,
    ContactLink,
    ContactSource,
    Resident,
    RiskAssessmentKind,
    RiskAssessmentOutcome,
    SupportNeed,
)

_YES_NO = [("yes", "Yes"), ("no", "No")]


def _drop_errors(form: forms.Form, *names: str) -> None:
    """Fields needed only for one answer (e.g. the list, only when approving) are marked required so they are
    not labelled "(optional)"; for the other answers their "required" errors are dropped."""
    for name in names:
        form.errors.pop(name, None)
        form.cleaned_data.pop(name, None)


class ResidentSearchForm(forms.Form):
    q = forms.CharField(label="Search by name or number", required=False, max_length=100)


class ResidentForm(forms.Form):
    identifier = forms.CharField(
        label="Prison number or Home Office reference",
        help_text="For example A1234BC.",
        max_length=32,
        error_messages={"required": "Enter the prison number or Home Office reference"},
    )
    first_name = forms.CharField(
        label="First name", max_length=100, error_messages={"required": "Enter their first name"}
    )
    last_name = forms.CharField(
        label="Last name", max_length=100, error_messages={"required": "Enter their last name"}
    )
    date_of_birth = GovukDateField(
        label="Date of birth",
        help_text="For example, 27 3 1990",
        error_messages={"required": "Enter their date of birth"},
    )
    location = forms.CharField(
        label="Location", help_text="Wing, unit or cell.", max_length=100, required=False
    )
    language = forms.CharField(
        label="Preferred language",
        help_text="The compact is explained in this language (PF 4.9, DSO 10).",
        max_length=50,
        initial="English",
        error_messages={"required": "Enter their preferred language"},
    )
    support_needs = forms.MultipleChoiceField(
        label="Support needs (PF 4.5)",
        help_text="Select all that apply. A physical need means calls are booked in an accessible room (PF 4.24).",
        choices=SupportNeed.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    support_notes = forms.CharField(
        label="Notes about support", widget=forms.Textarea, max_length=2000, required=False
    )
    e_list = forms.BooleanField(label="On the escape list (E-list) (PF 4.22)", required=False)
    pprc = forms.BooleanField(
        label="Assessed as a person posing a risk to children (PF 4.16)", required=False
    )
    harassment_measures = forms.BooleanField(
        label="Subject to MAPPA, a restraining order or another harassment measure (DSO 14)", required=False
    )
    imminent_removal_directions = forms.BooleanField(
        label="Has imminent removal directions (DSO 18)", required=False
    )
    large_family_exception = forms.BooleanField(
        label="Governor-approved large family exception (PF 4.13)", required=False
    )
    sex = forms.CharField(label="Sex", max_length=30, required=False)
    ethnicity = forms.CharField(label="Ethnicity", max_length=60, required=False)
    religion = forms.CharField(label="Religion or belief", max_length=60, required=False)
    disability = forms.CharField(label="Disability", max_length=60, required=False)

    PROTECTED = ("sex", "ethnicity", "religion", "disability")
    FLAGS = ("e_list", "pprc", "harassment_measures", "imminent_removal_directions", "large_family_exception")

    @classmethod
    def for_resident(cls, resident: Resident, data: Any = None) -> ResidentForm:
        return cls(data, initial={name: getattr(resident, name) for name in cls.base_fields})

    def clean_identifier(self) -> str:
        return str(self.cleaned_data["identifier"]).strip().upper()

    def clean_date_of_birth(self) -> date:
        born: date = self.cleaned_data["date_of_birth"]
        if born >= timezone.localdate():
            raise ValidationError("Date of birth must be in the past")
        return born


class CompactTextChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"Version {obj.version} ({obj.language})"


class CompactRecordForm(forms.Form):
    text = CompactTextChoiceField(
        label="Version of the compact",
        queryset=CompactText.objects.none(),
        empty_label="Select a version",
        error_messages={"required": "Select the version of the compact"},
    )
    outcome = forms.ChoiceField(
        label="Outcome",
        choices=CompactOutcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether the compact was signed or refused"},
    )
    language = forms.CharField(
        label="Language it was read and explained in",
        help_text="Where their English is not enough, explain it in a language they understand (DSO 15).",
        max_length=50,
        error_messages={"required": "Enter the language it was explained in"},
    )
    interpreter_used = forms.ChoiceField(
        label="Was an interpreter used?",
        choices=_YES_NO,
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether an interpreter was used"},
    )

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        text_field = self.fields["text"]
        assert isinstance(text_field, forms.ModelChoiceField)
        text_field.queryset = CompactText.objects.filter(kind=kind).order_by("-published_at", "language")

    def clean_interpreter_used(self) -> bool:
        return bool(self.cleaned_data["interpreter_used"] == "yes")


class CompactTextForm(forms.Form):
    kind = forms.ChoiceField(
        label="Which compact",
        choices=CompactKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select which compact this is"},
    )
    version = forms.CharField(
        label="Version",
        help_text="For example 2.1",
        max_length=20,
        error_messages={"required": "Enter the version"},
    )
    language = forms.CharField(
        label="Language", max_length=50, error_messages={"required": "Enter the language"}
    )
    body = forms.CharField(
        label="Text of the compact",
        widget=forms.Textarea,
        max_length=50000,
        error_messages={"required": "Enter the text of the compact"},
    )


class RiskAssessmentForm(forms.Form):
    kind = forms.ChoiceField(
        label="Kind of assessment",
        choices=RiskAssessmentKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the kind of assessment"},
    )
    outcome = forms.ChoiceField(
        label="Outcome",
        choices=RiskAssessmentOutcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the outcome"},
    )
    rationale = forms.CharField(
        label="Rationale",
        widget=forms.Textarea,
        max_length=5000,
        error_messages={"required": "Enter the rationale"},
    )
    review_date = GovukDateField(label="Review date", help_text="For example, 27 3 2026", required=False)

    def __init__(self, *args: Any, immigration: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not immigration:
            # DSO 14 individual assessments are only for immigration detention.
            kind_field = self.fields["kind"]
            assert isinstance(kind_field, forms.ChoiceField)
            kind_field.choices = [
                (RiskAssessmentKind.ELIGIBILITY.value, RiskAssessmentKind.ELIGIBILITY.label)
            ]


class LinkDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label="What do you want to do?",
        choices=[],
        widget=forms.RadioSelect,
        error_messages={"required": "Select what you want to do"},
    )
    source = forms.ChoiceField(
        label="Approved list the contact is on (PF 4.12)",
        help_text="Needed when you approve.",
        choices=ContactSource.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "PF 4.12: Select the approved list the contact is on"},
    )
    reason = forms.CharField(
        label="Reason",
        widget=forms.Textarea,
        max_length=2000,
        error_messages={"required": "Enter the reason"},
    )

    def __init__(self, *args: Any, link: ContactLink, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = {
            "pending": [("approve", "Approve"), ("reject", "Reject")],
            "approved": [("remove", "Remove from the approved list")],
            "rejected": [("approve", "Approve")],
            "removed": [("approve", "Approve again")],
        }[link.status]
        decision = self.fields["decision"]
        assert isinstance(decision, forms.ChoiceField)
        decision.choices = choices
        if not any(value == "approve" for value, _ in choices):
            del self.fields["source"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") != "approve":
            _drop_errors(self, "source")
        return data


class LinkDetailsForm(forms.Form):
    relationship = forms.CharField(
        label="Relationship", max_length=60, error_messages={"required": "Enter the relationship"}
    )
    source = forms.ChoiceField(
        label="Approved list (PF 4.12)",
        choices=[("", "Not on a list yet"), *ContactSource.choices],
        widget=forms.RadioSelect,
        required=False,
    )
    child_contact_approved = forms.BooleanField(
        label="On the approved child-contact list (PF 4.16)", required=False
    )
    banned = forms.BooleanField(
        label="Banned by the governor from video calls with this person (PF 4.10)", required=False
    )

    @classmethod
    def for_link(cls, link: ContactLink, data: Any = None) -> LinkDetailsForm:
        return cls(
            data,
            initial={
                "relationship": link.relationship,
                "source": link.source,
                "child_contact_approved": link.child_contact_approved,
                "banned": link.banned,
            },
        )


class LinkRequestDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label="Can you match this request?",
        choices=[
            ("match", "Yes, link the contact to the person I choose"),
            ("not_matched", "No, it cannot be matched"),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether you can match this request"},
    )
    resident = forms.ChoiceField(
        label="Person in custody",
        choices=[],
        widget=forms.RadioSelect,
        error_messages={"required": "Select the person in custody"},
    )
    source = forms.ChoiceField(
        label="Approved list the contact is on (PF 4.12)",
        choices=ContactSource.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "PF 4.12: Select the approved list the contact is on"},
    )
    reason = forms.CharField(
        label="Reason",
        help_text="Needed if the request cannot be matched.",
        widget=forms.Textarea,
        max_length=2000,
        required=False,
    )

    def __init__(self, *args: Any, candidates: list[Resident], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.candidates = {str(resident.pk): resident for resident in candidates}
        resident_field = self.fields["resident"]
        assert isinstance(resident_field, forms.ChoiceField)
        resident_field.choices = [
            (
                str(resident.pk),
                f"{resident.full_name}, {resident.identifier}, born {resident.date_of_birth:%-d %B %Y}",
            )
            for resident in candidates
        ]
        if not candidates:
            decision = self.fields["decision"]
            assert isinstance(decision, forms.ChoiceField)
            decision.choices = [("not_matched", "It cannot be matched")]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") != "match":
            _drop_errors(self, "resident", "source")
        if data.get("decision") == "not_matched" and not (data.get("reason") or "").strip():
            self.add_error("reason", "Enter why the request cannot be matched")
        return data

    @property
    def chosen_resident(self) -> Resident | None:
        return self.candidates.get(self.cleaned_data.get("resident") or "")
