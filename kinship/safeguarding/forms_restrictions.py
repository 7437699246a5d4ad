"""Forms for restrictions, suspensions and appeals. Policy refusals come back from the services with their
citations and are placed on their field (``add_refusal``)."""

from __future__ import annotations

import warnings
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet
from PIL import Image, UnidentifiedImageError

from kinship.core.forms import GovukDateField
from kinship.people.models import Contact

from .models import (
    AppealDecision,
    RestrictionKind,
    ReviewOutcome,
    Rule34Ground,
    SuspensionReason,
    VisitorBanKind,
)
from .services_restrictions import SafeguardingRefused

#: DSO 18: an appeal scan is at most 10 MB, and a PDF, JPEG or PNG by its content.
MAX_SCAN_BYTES = 10 * 1024 * 1024
SCAN_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png"}
SCAN_EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}

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
    max_calls_per_month = forms.IntegerField(
        label="Most calls in a calendar month", required=False, min_value=0, max_value=31
    )
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


def scan_content_type(upload: UploadedFile[Any]) -> str:
    """The content type of an appeal scan, read from its content (never its name or the browser's claim)."""
    if not upload.size:
        raise ValidationError("The selected file is empty")
    if upload.size > MAX_SCAN_BYTES:
        raise ValidationError("The selected file must be smaller than 10MB")
    try:
        upload.seek(0)
        head = upload.read(1024)
        if head.startswith(b"%PDF-"):
            upload.seek(max(0, upload.size - 2048))
            if b"%%EOF" not in upload.read():
                raise ValidationError("The selected file must be a PDF, JPG or PNG")
            return "application/pdf"
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                upload.seek(0)
                with Image.open(upload) as image:
                    image_format = image.format or ""
                    image.verify()
        except (
            UnidentifiedImageError,
            OSError,
            SyntaxError,
            ValueError,
            Image.DecompressionBombWarning,
            Image.DecompressionBombError,
        ) as error:
            raise ValidationError("The selected file must be a PDF, JPG or PNG") from error
        if image_format not in SCAN_TYPES:
            raise ValidationError("The selected file must be a PDF, JPG or PNG")
        return SCAN_TYPES[image_format]
    finally:
        upload.seek(0)


class AppealForm(forms.Form):
    text = forms.CharField(
        label="The appeal as written",
        widget=forms.Textarea,
        required=False,
        help_text="Type the appeal, or upload a scan of it below, or both.",
    )
    scan = forms.FileField(
        label="Upload a scan of the written appeal (optional)",
        required=False,
        help_text="A PDF, JPG or PNG file, smaller than 10MB",
        widget=forms.FileInput(attrs={"accept": "application/pdf,image/jpeg,image/png"}),
        error_messages={"empty": "The selected file is empty"},
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload = data.get("scan")
        data["scan_content_type"] = ""
        if upload:
            try:
                data["scan_content_type"] = scan_content_type(upload)
                # Stored under the type its content shows, never the name it came with.
                upload.name = f"scan.{SCAN_EXTENSIONS[data['scan_content_type']]}"
            except ValidationError as error:
                self.add_error("scan", error)
        return data


class AppealDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label="Decision",
        choices=AppealDecision.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the decision"},
    )
    varied_end_on = GovukDateField(
        label="If varied, the new last day of the suspension",
        required=False,
        require_all_fields=False,
        help_text="It must be before the current end. For example, 27 3 2026",
    )
    reasons = forms.CharField(label="Reasons", widget=forms.Textarea, required=False)


class _ContactChoice(forms.ModelChoiceField[Contact]):
    def label_from_instance(self, obj: Contact) -> str:
        return obj.full_name


class ContactBanForm(forms.Form):
    """PF 4.10: ban a person in custody from calling one named contact."""

    contact = _ContactChoice(
        label="Who may they not call?",
        queryset=Contact.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={"required": "Select the contact", "invalid_choice": "Select the contact"},
    )
    reason = forms.CharField(label="Why is the ban needed?", widget=forms.Textarea, required=False)
    review_on = GovukDateField(label="Review date", error_messages={"required": "Enter the review date"})

    def __init__(self, *args: Any, contacts: QuerySet[Contact], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = contacts  # type: ignore[attr-defined]


class VisitorBanForm(forms.Form):
    """PF 4.12 banned visitor, or DSO Annex A booking ban after a breach."""

    kind = forms.ChoiceField(
        label="What kind of ban?",
        choices=VisitorBanKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the kind of ban"},
    )
    contact = _ContactChoice(
        label="Contact",
        queryset=Contact.objects.none(),
        empty_label="Select the contact",
        error_messages={"required": "Select the contact", "invalid_choice": "Select the contact"},
    )
    reason = forms.CharField(label="Reason for the ban", widget=forms.Textarea, required=False)
    until = GovukDateField(
        label="Banned until (inclusive)", error_messages={"required": "Enter the last day of the ban"}
    )
    review_on = GovukDateField(label="Review date", error_messages={"required": "Enter the review date"})

    def __init__(self, *args: Any, contacts: QuerySet[Contact], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = contacts  # type: ignore[attr-defined]


class BannedVisitorAuthorisationForm(forms.Form):
    """PF 4.12: the responsible operational manager's authorisation to call a banned visitor."""

    contact = _ContactChoice(
        label="Which banned visitor may they call?",
        queryset=Contact.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={"required": "Select the contact", "invalid_choice": "Select the contact"},
    )
    reason = forms.CharField(label="Why is the call authorised?", widget=forms.Textarea, required=False)

    def __init__(self, *args: Any, contacts: QuerySet[Contact], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = contacts  # type: ignore[attr-defined]


class BanReviewForm(forms.Form):
    """A review of a contact ban or visitor ban: continue (with the next review date) or lift."""

    outcome = forms.ChoiceField(
        label="Outcome",
        choices=[(ReviewOutcome.CONTINUE, "Continue the ban"), (ReviewOutcome.LIFT, "Lift the ban now")],
        widget=forms.RadioSelect,
        error_messages={"required": "Select the outcome"},
    )
    notes = forms.CharField(label="What the review considered", widget=forms.Textarea, required=False)
    next_review_on = GovukDateField(
        label="Next review date",
        required=False,
        require_all_fields=False,
        help_text="Not needed when lifting",
    )


class RestrictionReviewForm(BanReviewForm):
    """PF 4.4: continue, vary the limits, or lift a restriction."""

    outcome = forms.ChoiceField(
        label="Outcome",
        choices=ReviewOutcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the outcome"},
    )
    max_participants = forms.IntegerField(
        label="If varied: most people who may join from outside", required=False, min_value=1, max_value=10
    )
    max_call_minutes = forms.IntegerField(
        label="If varied: longest call, in minutes", required=False, min_value=5
    )
    max_calls_per_month = forms.IntegerField(
        label="If varied: most calls in a calendar month", required=False, min_value=0, max_value=31
    )

    field_order = [
        "outcome",
        "max_participants",
        "max_call_minutes",
        "max_calls_per_month",
        "notes",
        "next_review_on",
    ]


class ResidentFindForm(forms.Form):
    identifier = forms.CharField(
        label="Prison number or Home Office reference",
        max_length=32,
        error_messages={"required": "Enter a prison number or Home Office reference"},
    )
