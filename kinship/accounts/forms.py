"""Account forms. Error messages follow the GOV.UK Design System's wording; each says how to put things right."""

from __future__ import annotations

import re
import warnings
from datetime import date
from typing import Any

from django import forms
from django.contrib.auth import authenticate, password_validation
from django.contrib.auth.forms import PasswordResetForm
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from kinship.core.forms import GovukDateField
from kinship.people.models import age_on

from .models import User
from .selectors import establishments_for_link_requests

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
ALLOWED_IMAGE_FORMATS = {"JPEG", "PNG"}
_PHONE = re.compile(r"^\+?[0-9 ()-]{10,20}$")
_EMAIL_ERRORS = {
    "required": "Enter your email address",
    "invalid": "Enter an email address in the correct format, like name@example.com",
}
# Advice shown to people, not a password.
PASSWORD_HINT = (
    "Your password must be at least 12 characters. Do not use a common password, your name or email address, or "  # noqa: S105
    "only numbers."
)


def _email_field(label: str = "Email address", **kwargs: Any) -> forms.EmailField:
    return forms.EmailField(
        label=label,
        max_length=254,
        error_messages=_EMAIL_ERRORS,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        **kwargs,
    )


def _password_field(label: str, required_message: str, autocomplete: str, **kwargs: Any) -> forms.CharField:
    return forms.CharField(
        label=label,
        strip=False,
        error_messages={"required": required_message},
        widget=forms.PasswordInput(attrs={"autocomplete": autocomplete}),
        **kwargs,
    )


def _name_field(label: str, required_message: str, autocomplete: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=100,
        error_messages={
            "required": required_message,
            "max_length": f"{label} must be 100 characters or fewer",
        },
        widget=forms.TextInput(attrs={"autocomplete": autocomplete} if autocomplete else {}),
    )


def _phone_field() -> forms.CharField:
    return forms.CharField(
        label="Mobile phone number",
        max_length=32,
        help_text="For example, 07700 900 982 or +44 7700 900 982",
        error_messages={"required": "Enter your mobile phone number"},
        widget=forms.TextInput(attrs={"autocomplete": "tel"}),
    )


def _clean_phone(value: str) -> str:
    value = value.strip()
    if not _PHONE.match(value) or not 10 <= sum(ch.isdigit() for ch in value) <= 15:
        raise ValidationError("Enter a mobile phone number, like 07700 900 982 or +44 7700 900 982")
    return value


class SignInForm(forms.Form):
    # Named "username" because django-axes reads the account being tried from that field (AXES_USERNAME_FORM_FIELD).
    username = _email_field()
    password = _password_field("Password", "Enter your password", "current-password")

    def __init__(self, *args: Any, request: HttpRequest, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request = request
        self.user: User | None = None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        email, password = cleaned.get("username"), cleaned.get("password")
        if email and password:
            user = authenticate(self.request, username=email.strip().lower(), password=password)
            if user is None:
                raise ValidationError(
                    "Enter a correct email address and password. If you have forgotten your password, reset it",
                    code="invalid_login",
                )
            self.user = user
        return cleaned


class TwoFactorForm(forms.Form):
    token = forms.CharField(
        label="Security code",
        help_text="The 6-digit code shown in your authenticator app",
        max_length=12,
        error_messages={"required": "Enter the security code from your authenticator app"},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
    )

    def clean_token(self) -> str:
        token = re.sub(r"\s", "", self.cleaned_data["token"])
        if not re.fullmatch(r"[0-9]{6}", token):
            raise ValidationError("The security code must be 6 numbers")
        return token


def clean_password_pair(form: forms.Form, user: User) -> None:
    """Two password boxes (password1, password2), checked with the project's password validators against the
    person's details. Errors go on the first box, as the Design System asks."""
    first, second = form.cleaned_data.get("password1"), form.cleaned_data.get("password2")
    if not first:
        return
    if second and first != second:
        form.add_error("password2", "The passwords do not match. Enter the same password twice")
        return
    try:
        password_validation.validate_password(first, user)
    except ValidationError as error:
        form.add_error("password1", [_plain_password_error(message) for message in error.messages])


def _plain_password_error(message: str) -> str:
    """Django's validator messages, in the Design System's voice."""
    if "too short" in message:
        return "Your password must be at least 12 characters"
    if "too common" in message:
        return "Your password is too easy to guess. Choose a different password"
    if "entirely numeric" in message:
        return "Your password cannot be only numbers"
    if "too similar" in message:
        return "Your password is too similar to your name or email address. Choose a different password"
    return message


class SignUpForm(forms.Form):
    first_name = _name_field("First name", "Enter your first name", "given-name")
    last_name = _name_field("Last name", "Enter your last name", "family-name")
    date_of_birth = GovukDateField(
        label="Date of birth",
        help_text="For example, 27 3 1985",
        error_messages={"required": "Enter your date of birth"},
    )
    email = _email_field(help_text="We will send you a link to confirm it")
    phone = _phone_field()
    password1 = _password_field(
        "Create a password", "Enter a password", "new-password", help_text=PASSWORD_HINT
    )
    password2 = _password_field("Confirm your password", "Enter your password again", "new-password")

    def clean_phone(self) -> str:
        return _clean_phone(self.cleaned_data["phone"])

    def clean_email(self) -> str:
        return str(self.cleaned_data["email"]).strip().lower()

    def clean_date_of_birth(self) -> date:
        born: date = self.cleaned_data["date_of_birth"]
        today = timezone.localdate()
        if born >= today:
            raise ValidationError("Your date of birth must be in the past")
        if age_on(born, today) < 18:
            raise ValidationError(
                "You must be 18 or over to create an account. Children can join a call with an adult who has "
                "an account (PF 4.14)"
            )
        return born

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        probe = User(
            email=cleaned.get("email", ""),
            first_name=cleaned.get("first_name", ""),
            last_name=cleaned.get("last_name", ""),
        )
        clean_password_pair(self, probe)
        return cleaned


class ContactDetailsForm(forms.Form):
    first_name = _name_field("First name", "Enter your first name", "given-name")
    last_name = _name_field("Last name", "Enter your last name", "family-name")
    phone = _phone_field()

    def clean_phone(self) -> str:
        return _clean_phone(self.cleaned_data["phone"])


class EmailChangeForm(forms.Form):
    email = _email_field(
        label="New email address", help_text="We will send a link to this address to confirm it"
    )
    password = _password_field("Your password", "Enter your password", "current-password")

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["email"].error_messages["required"] = "Enter your new email address"

    def clean_password(self) -> str:
        password: str = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise ValidationError("The password is not correct. Enter your current password")
        return password


class ContactPasswordChangeForm(forms.Form):
    old_password = _password_field("Current password", "Enter your current password", "current-password")
    password1 = _password_field(
        "New password", "Enter a new password", "new-password", help_text=PASSWORD_HINT
    )
    password2 = _password_field("Confirm your new password", "Enter your new password again", "new-password")

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_old_password(self) -> str:
        password: str = self.cleaned_data["old_password"]
        if not self.user.check_password(password):
            raise ValidationError("Your current password is not correct")
        return password

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        clean_password_pair(self, self.user)
        return cleaned


class GovukPasswordResetForm(PasswordResetForm):
    email = _email_field(label="Email address", help_text="The address you use to sign in")


class GovukSetPasswordForm(forms.Form):
    """The new password, from a password reset link (PasswordResetConfirmView passes the user first)."""

    password1 = _password_field(
        "New password", "Enter a new password", "new-password", help_text=PASSWORD_HINT
    )
    password2 = _password_field("Confirm your new password", "Enter your new password again", "new-password")

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        clean_password_pair(self, self.user)
        return cleaned


class TermsAcceptForm(forms.Form):
    accept = forms.BooleanField(
        label="I have read and accept the terms and conditions",
        error_messages={"required": "Confirm that you accept the terms and conditions"},
    )
    version = forms.CharField(widget=forms.HiddenInput)


class LinkRequestForm(forms.Form):
    establishment = forms.ModelChoiceField(
        queryset=establishments_for_link_requests(),
        label="Where are they?",
        empty_label="Select a prison or centre",
        error_messages={
            "required": "Select the prison or centre they are in",
            "invalid_choice": "Select a prison or centre from the list",
        },
    )
    resident_first_name = _name_field("Their first name", "Enter their first name")
    resident_last_name = _name_field("Their last name", "Enter their last name")
    resident_date_of_birth = GovukDateField(
        label="Their date of birth",
        help_text="For example, 17 5 1990",
        error_messages={"required": "Enter their date of birth"},
    )
    resident_identifier = forms.CharField(
        label="Their prison number or Home Office reference",
        required=False,
        max_length=32,
        help_text="If you know it. For example, A1234BC",
        error_messages={"max_length": "The reference must be 32 characters or fewer"},
    )
    relationship = forms.CharField(
        label="Your relationship to them",
        max_length=60,
        help_text="For example, mother, partner, friend or legal adviser",
        error_messages={
            "required": "Enter your relationship to them",
            "max_length": "Your relationship must be 60 characters or fewer",
        },
    )

    def clean_resident_date_of_birth(self) -> date:
        born: date = self.cleaned_data["resident_date_of_birth"]
        if born >= timezone.localdate():
            raise ValidationError("Their date of birth must be in the past")
        return born


def _validated_image(upload: UploadedFile[Any] | None, name: str) -> tuple[UploadedFile[Any], str]:
    """Check an uploaded image by its content (Pillow), not its name or the browser's content type."""
    if upload is None:
        raise ValidationError(f"Select {name}")
    if not upload.size:
        raise ValidationError("The selected file is empty")
    if upload.size > MAX_UPLOAD_BYTES:
        raise ValidationError("The selected file must be smaller than 10MB")
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
        raise ValidationError("The selected file must be a JPG or PNG") from error
    finally:
        upload.seek(0)
    if image_format not in ALLOWED_IMAGE_FORMATS:
        raise ValidationError("The selected file must be a JPG or PNG")
    return upload, image_format


class IdentityUploadForm(forms.Form):
    photo_id = forms.FileField(
        label="Upload a photo of your ID",
        help_text="A passport, driving licence or other photo ID. A JPG or PNG file, smaller than 10MB",
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png"}),
        error_messages={"required": "Select a photo of your ID", "empty": "The selected file is empty"},
    )
    photo_of_self = forms.FileField(
        label="Upload a photo of yourself",
        help_text="A clear photo of your face, taken recently. A JPG or PNG file, smaller than 10MB",
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png"}),
        error_messages={"required": "Select a photo of yourself", "empty": "The selected file is empty"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.formats: dict[str, str] = {}

    def clean_photo_id(self) -> UploadedFile[Any]:
        upload, self.formats["photo_id"] = _validated_image(
            self.cleaned_data.get("photo_id"), "a photo of your ID"
        )
        return upload

    def clean_photo_of_self(self) -> UploadedFile[Any]:
        upload, self.formats["photo_of_self"] = _validated_image(
            self.cleaned_data.get("photo_of_self"), "a photo of yourself"
        )
        return upload


class IdentityDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label="Do the photos show the same person, and is the ID genuine?",
        choices=[("verified", "Yes, verify their identity"), ("rejected", "No, reject this check")],
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether you verify or reject this identity check"},
    )
    reason = forms.CharField(
        label="Reason for rejecting",
        required=False,
        max_length=1000,
        help_text="Only needed if you reject the check. The contact will see this, so say what they need to do",
        widget=forms.Textarea,
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("decision") == "rejected" and not str(cleaned.get("reason", "")).strip():
            self.add_error("reason", "Enter why you are rejecting this identity check")
        return cleaned
