"""Account services: everything that changes an account goes through here, audited in the same transaction.

Every function is keyword-only, runs in one ``transaction.atomic`` and records one audit event in it. Emails are
sent with ``transaction.on_commit``, so nobody is sent a link to a change that was rolled back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core import signing
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from kinship.audit.services import audit_record
from kinship.establishments.models import Establishment
from kinship.people.models import Contact, LinkRequest, LinkRequestStatus

from .models import (
    IdentityVerification,
    TermsAcceptance,
    TermsVersion,
    User,
    UserKind,
    VerificationStatus,
)

EMAIL_VERIFICATION_MAX_AGE = timedelta(days=3)
_EMAIL_LINK_SALT = "kinship.accounts.verify-email"
IDENTITY_DOCUMENTS = {"photo-id": "photo_id", "photo-of-self": "photo_of_self"}
_CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png"}


class AccountError(Exception):
    """A change was refused; ``message`` is shown to the person, against ``field`` when there is one."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


# Terms and conditions (PF 4.15)


def contact_must_accept_terms(user: Any) -> bool:
    """PF 4.15: a contact accepts the current terms and conditions before booking or joining; a new version must
    be accepted again. Deny by default: with no published version there is nothing a contact could have
    accepted, so they are held at the terms page (which says so) until one is published."""
    current = TermsVersion.current()
    if current is None:
        return True
    return not TermsAcceptance.objects.filter(user=user, terms=current).exists()


def terms_accept(*, user: User, terms: TermsVersion) -> TermsAcceptance:
    if terms.published_at > timezone.now():
        raise AccountError("These terms and conditions have not been published yet.")
    with transaction.atomic():
        acceptance, created = TermsAcceptance.objects.get_or_create(user=user, terms=terms)
        if created:
            audit_record(
                action="terms_accepted",
                actor=user,
                subject=acceptance,
                after={"terms_version": terms.version, "user_id": user.pk},
                policy_ids=["PF 4.15"],
            )
    return acceptance


# Signing in and out (called from the auth signal receivers)


def sign_in_record(*, user: User) -> None:
    with transaction.atomic():
        audit_record(action="signed_in", actor=user, subject=user, after={"kind": user.kind})


def sign_in_failed_record(*, email: str, locked_out: bool) -> None:
    """The address tried is kept (it is what an investigation needs); the password never is."""
    email = (email or "").strip().lower()[:254]
    user = User.objects.filter(email__iexact=email).first() if email else None
    with transaction.atomic():
        audit_record(
            action="sign_in_failed",
            actor=AnonymousUser(),
            subject=user,
            subject_type="" if user else "accounts.user",
            after={"email": email, "account_exists": user is not None, "locked_out": locked_out},
        )


def sign_in_rate_limited_record(*, ip_address: str, bucket: str) -> None:
    with transaction.atomic():
        audit_record(
            action="rate_limited",
            actor=AnonymousUser(),
            subject_type="accounts.ratelimit",
            subject_id=bucket,
            after={"ip_address": ip_address, "bucket": bucket},
        )


def sign_out_record(*, user: User | None) -> None:
    if user is None or not user.is_authenticated:
        return
    with transaction.atomic():
        audit_record(action="signed_out", actor=user, subject=user)


# Staff second factor (TOTP)


def totp_setup_start(*, user: User) -> TOTPDevice:
    """An unconfirmed device whose secret is shown once, as a QR code and as text; it counts only once confirmed."""
    with transaction.atomic():
        device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
            audit_record(action="two_factor_setup_started", actor=user, subject=user)
    return device


def totp_setup_confirm(*, user: User, device: TOTPDevice, token: str) -> bool:
    if device.user_id != user.pk or device.confirmed:
        raise AccountError("Start setting up your authenticator app again.")
    with transaction.atomic():
        if not device.verify_token(token):
            audit_record(action="two_factor_failed", actor=user, subject=user, after={"stage": "setup"})
            return False
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        # Only one confirmed device: any others (from an earlier, abandoned set-up) are removed.
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        audit_record(action="two_factor_setup_completed", actor=user, subject=user)
    return True


@dataclass(frozen=True)
class TotpCheck:
    verified: bool
    throttled: bool = False


def totp_verify(*, user: User, device: TOTPDevice, token: str) -> TotpCheck:
    """Check a code; django-otp's throttling slows down repeated failures (each failure doubles the wait)."""
    with transaction.atomic():
        allowed, _ = device.verify_is_allowed()
        verified = bool(allowed) and device.verify_token(token)
        if verified:
            audit_record(action="two_factor_passed", actor=user, subject=user)
        else:
            audit_record(
                action="two_factor_failed",
                actor=user,
                subject=user,
                after={"stage": "sign_in", "throttled": not allowed},
            )
    return TotpCheck(verified=verified, throttled=not allowed)


# Contacts: sign-up and email verification


@dataclass(frozen=True)
class EmailChange:
    user_id: int
    current_email: str
    new_email: str


def email_token_make(*, user: User, new_email: str | None = None) -> str:
    """A signed, time-limited token for confirming ``new_email`` (the current address at sign-up). It names the
    address the account had when it was made, so it stops working once the address changes again."""
    return signing.dumps(
        {"u": user.pk, "c": user.email, "n": (new_email or user.email).lower()}, salt=_EMAIL_LINK_SALT
    )


def email_token_read(token: str) -> EmailChange | None:
    try:
        data = signing.loads(token, salt=_EMAIL_LINK_SALT, max_age=EMAIL_VERIFICATION_MAX_AGE)
    except signing.BadSignature:  # SignatureExpired is a BadSignature too
        return None
    try:
        return EmailChange(user_id=int(data["u"]), current_email=str(data["c"]), new_email=str(data["n"]))
    except (KeyError, TypeError, ValueError):
        return None


def _send_email_link(*, to: str, template: str, context: dict[str, Any], subject: str) -> None:
    body = render_to_string(template, context)
    transaction.on_commit(
        lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to], fail_silently=False)
    )


def email_verification_send(*, user: User, site_url: str, new_email: str | None = None) -> None:
    """Email a confirmation link to the address being confirmed (the new one, for a change of address)."""
    token = email_token_make(user=user, new_email=new_email)
    url = site_url.rstrip("/") + reverse("accounts:verify-email", kwargs={"token": token})
    to = (new_email or user.email).lower()
    with transaction.atomic():
        audit_record(
            action="email_verification_sent",
            actor=user,
            subject=user,
            after={"to": to, "change": bool(new_email)},
        )
        _send_email_link(
            to=to,
            template="accounts/email/verify_email.txt",
            context={
                "user": user,
                "url": url,
                "days": EMAIL_VERIFICATION_MAX_AGE.days,
                "change": bool(new_email),
            },
            subject="Confirm your email address - Kinship video calls",
        )


def contact_sign_up(
    *,
    first_name: str,
    last_name: str,
    date_of_birth: date,
    email: str,
    phone: str,
    password: str,
    site_url: str,
) -> User:
    """Create a contact's account and their contact record together, then email a link to confirm the address."""
    email = email.strip().lower()
    try:
        with transaction.atomic():
            if User.objects.filter(email__iexact=email).exists():
                raise AccountError(_EMAIL_UNAVAILABLE, field="email")
            user = User.objects.create_user(
                email=email,
                password=password,
                first_name=first_name,
                last_name=last_name,
                phone=phone,
                kind=UserKind.CONTACT,
            )
            contact = Contact.objects.create(
                user=user,
                first_name=first_name,
                last_name=last_name,
                date_of_birth=date_of_birth,
                email=email,
                phone=phone,
            )
            audit_record(
                action="contact_signed_up",
                actor=user,
                subject=contact,
                after={"user_id": user.pk, "email": email, "name": f"{first_name} {last_name}"},
            )
            email_verification_send(user=user, site_url=site_url)
    except IntegrityError as error:
        # Two sign-ups with the same address at the same moment: the database's unique index decides.
        raise AccountError(_EMAIL_UNAVAILABLE, field="email") from error
    return user


_EMAIL_UNAVAILABLE = (
    "You cannot create an account with this email address. If you already have an account, sign in or reset "
    "your password"
)


def email_verify(*, token: str) -> User | None:
    """Confirm the address in ``token``: at sign-up it marks the address verified, for a change it becomes the
    account's address. Returns the user, or None if the link is not valid (any more)."""
    change = email_token_read(token)
    if change is None:
        return None
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=change.user_id, is_active=True).first()
        if user is None:
            return None
        if user.email == change.new_email and user.email_verified_at is not None:
            return user  # already confirmed: following the link twice is harmless
        if user.email != change.current_email:
            return None
        before = {"email": user.email, "verified": user.email_verified_at is not None}
        if change.new_email != user.email:
            if User.objects.filter(email__iexact=change.new_email).exclude(pk=user.pk).exists():
                return None
            user.email = change.new_email
            Contact.objects.filter(user=user).update(email=change.new_email)
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email", "email_verified_at"])
        audit_record(
            action="email_changed" if before["email"] != user.email else "email_verified",
            actor=user,
            subject=user,
            before=before,
            after={"email": user.email, "verified": True},
        )
    return user


def email_change_request(*, user: User, new_email: str, site_url: str) -> None:
    """The new address takes over only once its owner follows the link sent to it; the old address is told."""
    new_email = new_email.strip().lower()
    if new_email == user.email:
        raise AccountError("Enter a different email address from the one you use now", field="email")
    if User.objects.filter(email__iexact=new_email).exclude(pk=user.pk).exists():
        raise AccountError(
            "You cannot use this email address. Enter a different email address", field="email"
        )
    with transaction.atomic():
        audit_record(
            action="email_change_requested",
            actor=user,
            subject=user,
            before={"email": user.email},
            after={"requested_email": new_email},
        )
        email_verification_send(user=user, site_url=site_url, new_email=new_email)
        _send_email_link(
            to=user.email,
            template="accounts/email/email_change_notice.txt",
            context={"user": user, "site_url": site_url},
            subject="Someone asked to change your email address - Kinship video calls",
        )


def contact_details_update(*, user: User, first_name: str, last_name: str, phone: str) -> User:
    with transaction.atomic():
        before = {"first_name": user.first_name, "last_name": user.last_name, "phone": user.phone}
        user.first_name, user.last_name, user.phone = first_name, last_name, phone
        user.save(update_fields=["first_name", "last_name", "phone"])
        Contact.objects.filter(user=user).update(first_name=first_name, last_name=last_name, phone=phone)
        audit_record(
            action="contact_details_changed",
            actor=user,
            subject=user,
            before=before,
            after={"first_name": first_name, "last_name": last_name, "phone": phone},
        )
    return user


def password_change(*, user: User, new_password: str) -> None:
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        audit_record(action="password_changed", actor=user, subject=user)


def password_reset_request_record(*, email: str) -> None:
    """Recorded whether or not an account has the address; the page the person sees is the same either way."""
    user = User.objects.filter(email__iexact=email.strip()).first()
    with transaction.atomic():
        audit_record(
            action="password_reset_requested",
            actor=AnonymousUser(),
            subject=user,
            subject_type="" if user else "accounts.user",
            after={"email": email.strip().lower(), "account_exists": user is not None},
        )


def password_reset_complete(*, user: User, new_password: str) -> None:
    """Set the password chosen through a reset link. Having proved they hold the mailbox, the person is no
    longer locked out for earlier failed sign-ins."""
    from axes.utils import reset as axes_reset

    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        audit_record(action="password_reset_completed", actor=user, subject=user)
    axes_reset(username=user.email)


# Asking to be linked to someone in custody


def link_request_create(
    *,
    contact: Contact,
    establishment: Establishment,
    resident_first_name: str,
    resident_last_name: str,
    resident_date_of_birth: date,
    resident_identifier: str,
    relationship: str,
) -> LinkRequest:
    if not establishment.active:
        raise AccountError("Select a prison or centre from the list", field="establishment")
    with transaction.atomic():
        duplicate = LinkRequest.objects.filter(
            contact=contact,
            establishment=establishment,
            resident_first_name__iexact=resident_first_name,
            resident_last_name__iexact=resident_last_name,
            resident_date_of_birth=resident_date_of_birth,
            status=LinkRequestStatus.PENDING,
        ).exists()
        if duplicate:
            raise AccountError(
                "You have already asked to be linked to this person. Staff will check your request"
            )
        request = LinkRequest.objects.create(
            contact=contact,
            establishment=establishment,
            resident_first_name=resident_first_name,
            resident_last_name=resident_last_name,
            resident_date_of_birth=resident_date_of_birth,
            resident_identifier=resident_identifier.strip().upper(),
            relationship=relationship,
        )
        audit_record(
            action="link_request_created",
            actor=contact.user,
            subject=request,
            establishment_code=establishment.code,
            after={
                "contact_id": str(contact.pk),
                "resident_name": f"{resident_first_name} {resident_last_name}",
                "resident_date_of_birth": resident_date_of_birth.isoformat(),
                "resident_identifier": request.resident_identifier,
                "relationship": relationship,
            },
            policy_ids=["PF 4.12"],
        )
    return request


# Identity verification


def identity_submit(
    *,
    user: User,
    photo_id: UploadedFile[Any],
    photo_id_format: str,
    photo_of_self: UploadedFile[Any],
    photo_of_self_format: str,
) -> IdentityVerification:
    """Store both images (under MEDIA_ROOT, never at a public URL) for staff to check. The formats are the ones
    Pillow found in the files; the names people gave their files are not used."""
    with transaction.atomic():
        latest = IdentityVerification.objects.filter(user=user).order_by("-created_at").first()
        if latest is not None and latest.status in {VerificationStatus.PENDING, VerificationStatus.VERIFIED}:
            raise AccountError(
                "Your identity has already been checked"
                if latest.status == VerificationStatus.VERIFIED
                else "Staff are already checking your identity. You do not need to send your photos again"
            )
        check = IdentityVerification(user=user)
        try:
            check.photo_id.save(f"upload.{_extension(photo_id_format)}", File(photo_id), save=False)
            check.photo_of_self.save(
                f"upload.{_extension(photo_of_self_format)}", File(photo_of_self), save=False
            )
            check.save()
            audit_record(action="identity_submitted", actor=user, subject=check, after={"user_id": user.pk})
        except Exception:
            # Files are not part of the transaction: do not leave images behind for a check that does not exist.
            for stored in (check.photo_id, check.photo_of_self):
                if stored:
                    stored.delete(save=False)
            raise
    return check


def _extension(image_format: str) -> str:
    return {"JPEG": "jpg", "PNG": "png"}[image_format]


@dataclass(frozen=True)
class IdentityDocument:
    file: Any
    content_type: str


def identity_document_open(
    *, check: IdentityVerification, document: str, actor: User, establishment: Establishment
) -> IdentityDocument:
    """Open one of the two images for a member of staff, recording who looked at which, where, when."""
    field_name = IDENTITY_DOCUMENTS.get(document)
    if field_name is None:
        raise AccountError("There is no such document")
    stored = getattr(check, field_name)
    content_type = _CONTENT_TYPES.get(stored.name.rsplit(".", 1)[-1].lower(), "application/octet-stream")
    with transaction.atomic():
        audit_record(
            action="identity_document_viewed",
            actor=actor,
            subject=check,
            establishment_code=establishment.code,
            after={"document": document, "contact_user_id": check.user_id},
        )
    return IdentityDocument(file=stored.open("rb"), content_type=content_type)


def identity_decide(
    *,
    check: IdentityVerification,
    actor: User,
    establishment: Establishment,
    verified: bool,
    reason: str,
) -> IdentityVerification:
    reason = reason.strip()
    if not verified and not reason:
        raise AccountError("Enter why you are rejecting this identity check", field="reason")
    with transaction.atomic():
        check = IdentityVerification.objects.select_for_update().get(pk=check.pk)
        if check.status != VerificationStatus.PENDING:
            raise AccountError("This identity check has already been decided")
        before = {"status": check.status}
        check.status = VerificationStatus.VERIFIED if verified else VerificationStatus.REJECTED
        check.rejection_reason = "" if verified else reason
        check.reviewed_by = actor
        check.reviewed_at = timezone.now()
        check.save(update_fields=["status", "rejection_reason", "reviewed_by", "reviewed_at", "updated_at"])
        if verified:
            # The contact record carries the result, so booking checks need no join to the uploads.
            Contact.objects.filter(user_id=check.user_id).update(identity_verified_at=check.reviewed_at)
        audit_record(
            action="identity_verified" if verified else "identity_rejected",
            actor=actor,
            subject=check,
            establishment_code=establishment.code,
            before=before,
            after={
                "status": check.status,
                "reason": check.rejection_reason,
                "contact_user_id": check.user_id,
            },
        )
    return check
