"""Account pages: signing in (with staff TOTP), contacts' sign-up, email confirmation, terms, profile, home,
identity upload, and the staff identity-check pages. Views stay thin: forms validate, services write, selectors
read."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any, cast
from urllib.parse import quote

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from kinship.core.middleware import client_ip
from kinship.core.permissions import contact_required, public, staff_any_establishment, staff_required
from kinship.core.roles import Role
from kinship.establishments.models import Establishment

from . import ratelimit, selectors, services
from .forms import (
    ContactDetailsForm,
    ContactPasswordChangeForm,
    EmailChangeForm,
    GovukPasswordResetForm,
    GovukSetPasswordForm,
    IdentityDecisionForm,
    IdentityUploadForm,
    LinkRequestForm,
    SignInForm,
    SignUpForm,
    TermsAcceptForm,
    TwoFactorForm,
)
from .models import User, VerificationStatus

IDENTITY_REVIEWERS = (Role.BOOKING_CLERK, Role.SECURITY, Role.GOVERNOR)
TWO_FACTOR_RATE_LIMIT = 10
RESEND_RATE_LIMIT = 3
RESEND_WINDOW_SECONDS = 15 * 60
_MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


# Helpers


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _posted(request: HttpRequest) -> Any:
    """The submitted data for a POST (even an empty one, so its errors show), None for a GET."""
    return request.POST if request.method == "POST" else None


def _posted_files(request: HttpRequest) -> Any:
    return request.FILES if request.method == "POST" else None


def _safe_next(request: HttpRequest, candidate: str | None) -> str | None:
    """``next`` only if it points back into this site (never to another host or scheme)."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return None


def _next_param(request: HttpRequest) -> str:
    return _safe_next(request, request.POST.get("next") or request.GET.get("next")) or ""


def _with_next(url: str, next_url: str) -> str:
    return f"{url}?next={quote(next_url)}" if next_url else url


def _site_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/")


def _too_many_requests(
    request: HttpRequest, *, bucket: str, hit: ratelimit.Hit, minutes: int
) -> HttpResponse:
    if hit.first_over:
        services.sign_in_rate_limited_record(ip_address=client_ip(request), bucket=bucket)
    response = render(request, "accounts/too_many_requests.html", {"minutes": minutes}, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response


def _rate_limit(
    request: HttpRequest, *, bucket: str, key: str, limit: int, window: int
) -> HttpResponse | None:
    hit = ratelimit.hit(bucket=bucket, key=key, limit=limit, window_seconds=window)
    if hit.exceeded:
        return _too_many_requests(request, bucket=bucket, hit=hit, minutes=max(1, window // 60))
    return None


def _ip_rate_limit(request: HttpRequest, bucket: str) -> HttpResponse | None:
    return _rate_limit(
        request,
        bucket=bucket,
        key=client_ip(request),
        limit=settings.LOGIN_RATE_LIMIT,
        window=settings.LOGIN_RATE_WINDOW_SECONDS,
    )


def _is_verified(request: HttpRequest) -> bool:
    is_verified = getattr(request.user, "is_verified", None)
    return bool(is_verified()) if callable(is_verified) else False


def _after_sign_in(request: HttpRequest, user: User, next_url: str) -> HttpResponse:
    """Where a signed-in person goes: staff through their second factor, contacts to confirm their email."""
    if user.is_staff_member:
        if settings.KINSHIP_REQUIRE_STAFF_2FA and not _is_verified(request):
            has_device = selectors.totp_device_confirmed(user=user) is not None
            step = "accounts:two-factor" if has_device else "accounts:two-factor-setup"
            return redirect(_with_next(reverse(step), next_url))
        return redirect(next_url or reverse("core:home"))
    if user.email_verified_at is None:
        return redirect("accounts:verify-email-sent")
    return redirect(next_url or reverse("accounts:contact-home"))


def _qr_code_data_uri(text: str) -> str:
    """The QR code as an SVG image in a data: URI (CSP allows data: images; no inline styles are involved)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathFillImage, box_size=10, border=4)
    svg = image.to_string(encoding="unicode")
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


# Signing in and out


@public
@never_cache
@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    next_url = _next_param(request)
    if request.method == "GET" and request.user.is_authenticated:
        return _after_sign_in(request, _user(request), next_url)
    form = SignInForm(_posted(request), request=request)
    if request.method == "POST":
        limited = _ip_rate_limit(request, "sign-in")
        if limited is not None:
            return limited
        if form.is_valid() and form.user is not None:
            login(request, form.user)  # a new session key: nothing from before signing in carries over
            return _after_sign_in(request, form.user, next_url)
    return render(request, "accounts/sign_in.html", {"form": form, "next": next_url})


@public
@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.success(request, "You have signed out")
    return redirect("accounts:sign-in")


@staff_any_establishment
@never_cache
@require_http_methods(["GET", "POST"])
def two_factor(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    next_url = _next_param(request)
    if _is_verified(request):
        return redirect(next_url or reverse("core:home"))
    device = selectors.totp_device_confirmed(user=user)
    if device is None:
        return redirect(_with_next(reverse("accounts:two-factor-setup"), next_url))
    form = TwoFactorForm(_posted(request))
    if request.method == "POST":
        limited = _rate_limit(
            request,
            bucket="two-factor",
            key=str(user.pk),
            limit=TWO_FACTOR_RATE_LIMIT,
            window=settings.LOGIN_RATE_WINDOW_SECONDS,
        )
        if limited is not None:
            return limited
        if form.is_valid():
            check = services.totp_verify(user=user, device=device, token=form.cleaned_data["token"])
            if check.verified:
                otp_login(request, device)
                request.session.cycle_key()
                return redirect(next_url or reverse("core:home"))
            form.add_error(
                "token",
                "You have entered too many wrong codes. Wait a minute, then enter the code shown now"
                if check.throttled
                else "The security code is not correct. Enter the code shown in your authenticator app now",
            )
    return render(request, "accounts/two_factor.html", {"form": form, "next": next_url})


@staff_any_establishment
@never_cache
@require_http_methods(["GET", "POST"])
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    next_url = _next_param(request)
    if selectors.totp_device_confirmed(user=user) is not None:
        # The secret is shown only once, while setting up; after that the code is asked for instead.
        return redirect(_with_next(reverse("accounts:two-factor"), next_url))
    device: TOTPDevice = services.totp_setup_start(user=user)
    form = TwoFactorForm(_posted(request))
    if request.method == "POST":
        limited = _rate_limit(
            request,
            bucket="two-factor",
            key=str(user.pk),
            limit=TWO_FACTOR_RATE_LIMIT,
            window=settings.LOGIN_RATE_WINDOW_SECONDS,
        )
        if limited is not None:
            return limited
        if form.is_valid():
            if services.totp_setup_confirm(user=user, device=device, token=form.cleaned_data["token"]):
                otp_login(request, device)
                request.session.cycle_key()
                messages.success(request, "Your authenticator app is set up")
                return redirect(next_url or reverse("core:home"))
            form.add_error(
                "token",
                "The security code is not correct. Enter the code shown in your authenticator app now",
            )
    secret = base64.b32encode(device.bin_key).decode()
    context = {
        "form": form,
        "next": next_url,
        "qr_code": _qr_code_data_uri(device.config_url),
        "secret": _grouped(secret),
    }
    return render(request, "accounts/two_factor_setup.html", context)


# Contacts: sign-up and email confirmation


@public
@never_cache
@require_http_methods(["GET", "POST"])
def sign_up(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("core:home")
    form = SignUpForm(_posted(request))
    if request.method == "POST":
        limited = _ip_rate_limit(request, "sign-up")
        if limited is not None:
            return limited
        if form.is_valid():
            data = form.cleaned_data
            try:
                user = services.contact_sign_up(
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                    date_of_birth=data["date_of_birth"],
                    email=data["email"],
                    phone=data["phone"],
                    password=data["password1"],
                    site_url=_site_url(request),
                )
            except services.AccountError as error:
                form.add_error(error.field, error.message)
            else:
                login(request, user, backend=_MODEL_BACKEND)
                return redirect("accounts:verify-email-sent")
    return render(request, "accounts/sign_up.html", {"form": form})


@public
@never_cache
def verify_email_sent(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.is_authenticated and not getattr(user, "is_contact", False):
        return redirect("core:home")
    if user.is_authenticated and user.email_verified_at is not None:
        return redirect("accounts:contact-home")
    return render(request, "accounts/verify_email_sent.html")


@public
@require_POST
def verify_email_resend(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_authenticated or not getattr(user, "is_contact", False):
        return redirect("accounts:sign-in")
    contact_user = user
    if contact_user.email_verified_at is not None:
        return redirect("accounts:contact-home")
    limited = _rate_limit(
        request,
        bucket="verify-resend",
        key=str(contact_user.pk),
        limit=RESEND_RATE_LIMIT,
        window=RESEND_WINDOW_SECONDS,
    )
    if limited is not None:
        return limited
    services.email_verification_send(user=contact_user, site_url=_site_url(request))
    messages.success(request, f"We have sent a new link to {contact_user.email}")
    return redirect("accounts:verify-email-sent")


@public
@never_cache
def verify_email(request: HttpRequest, token: str) -> HttpResponse:
    user = services.email_verify(token=token)
    if user is None:
        return render(request, "accounts/verify_email_invalid.html", status=400)
    if request.user.is_authenticated and request.user.pk == user.pk:
        messages.success(request, f"Your email address {user.email} is confirmed")
        return redirect("accounts:contact-home")
    return render(request, "accounts/verify_email_done.html", {"confirmed_email": user.email})


# Terms and conditions (PF 4.15)


@contact_required(terms=False)
@never_cache
@require_http_methods(["GET", "POST"])
def terms(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    next_url = _next_param(request)
    current = selectors.terms_current()
    if current is None:
        return render(request, "accounts/terms_unavailable.html", status=503)
    latest = selectors.terms_acceptance_latest(user=user)
    accepted_current = latest is not None and latest.terms_id == current.pk
    form = TermsAcceptForm(_posted(request), initial={"version": current.version})
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["version"] != current.version:
            messages.warning(
                request,
                "The terms and conditions changed while you were reading them. Read the new version and accept "
                "it to continue",
            )
            return redirect(_with_next(reverse("accounts:terms"), next_url))
        else:
            services.terms_accept(user=user, terms=current)
            messages.success(request, "You have accepted the terms and conditions")
            return redirect(next_url or reverse("accounts:contact-home"))
    context = {
        "form": form,
        "terms": current,
        "next": next_url,
        "accepted": latest if accepted_current else None,
        "previous": latest if latest is not None and not accepted_current else None,
    }
    return render(request, "accounts/terms.html", context)


# The contact's own pages


@contact_required(terms=True)
@require_http_methods(["GET", "POST"])
def contact_home(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    contact = selectors.contact_for_user(user=user)
    form = LinkRequestForm(_posted(request))
    if request.method == "POST":
        if contact is None:
            raise Http404
        if form.is_valid():
            data = form.cleaned_data
            try:
                link_request = services.link_request_create(
                    contact=contact,
                    establishment=data["establishment"],
                    resident_first_name=data["resident_first_name"],
                    resident_last_name=data["resident_last_name"],
                    resident_date_of_birth=data["resident_date_of_birth"],
                    resident_identifier=data["resident_identifier"],
                    relationship=data["relationship"],
                )
            except services.AccountError as error:
                form.add_error(error.field, error.message)
            else:
                messages.success(
                    request,
                    f"Your request has been sent. Staff at {link_request.establishment.name} will check it "
                    "and tell you when you are linked",
                )
                return redirect("accounts:contact-home")
    context = {
        "form": form,
        "contact": contact,
        "links": selectors.contact_links_approved(contact=contact) if contact else [],
        "link_requests": selectors.link_requests_for_contact(contact=contact) if contact else [],
        "identity": selectors.identity_latest(user=user),
    }
    return render(request, "accounts/contact_home.html", context)


@contact_required(terms=True)
def link_request_detail(request: HttpRequest, pk: str) -> HttpResponse:
    contact = selectors.contact_for_user(user=_user(request))
    if contact is None:
        raise Http404
    link_request = get_object_or_404(selectors.link_request_for_contact(contact=contact, pk=pk))
    return render(request, "accounts/link_request_detail.html", {"link_request": link_request})


@contact_required(terms=False)
def profile(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    context = {
        "contact": selectors.contact_for_user(user=user),
        "identity": selectors.identity_latest(user=user),
        "terms_acceptance": selectors.terms_acceptance_latest(user=user),
    }
    return render(request, "accounts/profile.html", context)


@contact_required(terms=False)
@require_http_methods(["GET", "POST"])
def profile_details(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = ContactDetailsForm(
        _posted(request),
        initial={"first_name": user.first_name, "last_name": user.last_name, "phone": user.phone},
    )
    if request.method == "POST" and form.is_valid():
        services.contact_details_update(user=user, **form.cleaned_data)
        messages.success(request, "Your details have been updated")
        return redirect("accounts:profile")
    return render(request, "accounts/profile_details.html", {"form": form})


@contact_required(terms=False)
@never_cache
@require_http_methods(["GET", "POST"])
def profile_email(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = EmailChangeForm(_posted(request), user=user)
    if request.method == "POST" and form.is_valid():
        try:
            services.email_change_request(
                user=user, new_email=form.cleaned_data["email"], site_url=_site_url(request)
            )
        except services.AccountError as error:
            form.add_error(error.field, error.message)
        else:
            messages.success(
                request,
                f"We have sent a link to {form.cleaned_data['email']}. Your email address will change when you "
                "follow it",
            )
            return redirect("accounts:profile")
    return render(request, "accounts/profile_email.html", {"form": form})


@contact_required(terms=False)
@never_cache
@require_http_methods(["GET", "POST"])
def profile_password(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = ContactPasswordChangeForm(_posted(request), user=user)
    if request.method == "POST" and form.is_valid():
        services.password_change(user=user, new_password=form.cleaned_data["password1"])
        update_session_auth_hash(request, user)  # stay signed in here; other sessions are signed out
        messages.success(request, "Your password has been changed")
        return redirect("accounts:profile")
    return render(request, "accounts/profile_password.html", {"form": form})


@contact_required(terms=False)
@require_http_methods(["GET", "POST"])
def identity(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    latest = selectors.identity_latest(user=user)
    can_upload = latest is None or latest.status == VerificationStatus.REJECTED
    form = IdentityUploadForm(_posted(request), _posted_files(request))
    if request.method == "POST" and can_upload and form.is_valid():
        try:
            services.identity_submit(
                user=user,
                photo_id=form.cleaned_data["photo_id"],
                photo_id_format=form.formats["photo_id"],
                photo_of_self=form.cleaned_data["photo_of_self"],
                photo_of_self_format=form.formats["photo_of_self"],
            )
        except services.AccountError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "Your photos have been sent. Staff will check them")
            return redirect("accounts:identity")
    context = {"form": form, "latest": latest, "can_upload": can_upload}
    return render(request, "accounts/identity.html", context)


# Staff: identity checks, scoped to the establishment the contact has asked to be linked to


@staff_required(*IDENTITY_REVIEWERS)
def identity_queue(request: HttpRequest, establishment: Establishment) -> HttpResponse:
    checks = selectors.identity_checks_pending_at(establishment=establishment)
    return render(
        request, "accounts/staff/identity_queue.html", {"establishment": establishment, "checks": checks}
    )


@staff_required(*IDENTITY_REVIEWERS)
@require_http_methods(["GET", "POST"])
def identity_review(request: HttpRequest, establishment: Establishment, pk: str) -> HttpResponse:
    check = get_object_or_404(selectors.identity_checks_at(establishment=establishment), pk=pk)
    form = IdentityDecisionForm(_posted(request))
    if request.method == "POST" and check.status == VerificationStatus.PENDING and form.is_valid():
        verified = form.cleaned_data["decision"] == "verified"
        try:
            services.identity_decide(
                check=check,
                actor=_user(request),
                establishment=establishment,
                verified=verified,
                reason=form.cleaned_data["reason"],
            )
        except services.AccountError as error:
            form.add_error(error.field, error.message)
        else:
            name = check.user.get_full_name() or check.user.email
            messages.success(request, f"{name}'s identity is {'verified' if verified else 'rejected'}")
            return redirect("accounts:identity-queue", establishment=establishment.code)
    context = {
        "establishment": establishment,
        "check": check,
        "contact": getattr(check.user, "contact", None),
        "form": form,
    }
    return render(request, "accounts/staff/identity_review.html", context)


@staff_required(*IDENTITY_REVIEWERS)
def identity_document(
    request: HttpRequest, establishment: Establishment, pk: str, document: str
) -> HttpResponse:
    if document not in services.IDENTITY_DOCUMENTS:
        raise Http404
    check = get_object_or_404(selectors.identity_checks_at(establishment=establishment), pk=pk)
    opened = services.identity_document_open(
        check=check, document=document, actor=_user(request), establishment=establishment
    )
    response = FileResponse(opened.file, content_type=opened.content_type)
    response["Cache-Control"] = "private, no-store"
    response["Content-Disposition"] = "inline"
    # A streamed file is not an HttpResponse subclass, though the permission decorators are typed for one.
    return response  # type: ignore[return-value]


# Password reset (Django's views, GOV.UK templates, audited)


class PasswordResetView(auth_views.PasswordResetView):
    form_class = GovukPasswordResetForm
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password-reset-sent")

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        limited = _ip_rate_limit(request, "password-reset")
        if limited is not None:
            return limited
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: Any) -> HttpResponse:
        services.password_reset_request_record(email=form.cleaned_data["email"])
        return super().form_valid(form)


class PasswordResetSentView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_sent.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = GovukSetPasswordForm  # type: ignore[assignment]
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password-reset-complete")

    def form_valid(self, form: Any) -> HttpResponse:
        services.password_reset_complete(user=form.user, new_password=form.cleaned_data["password1"])
        self.request.session.pop(auth_views.INTERNAL_RESET_SESSION_TOKEN, None)
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


password_reset = public(cast("Callable[..., HttpResponse]", PasswordResetView.as_view()))
password_reset_sent = public(PasswordResetSentView.as_view())
password_reset_confirm = public(cast("Callable[..., HttpResponse]", PasswordResetConfirmView.as_view()))
password_reset_complete = public(PasswordResetCompleteView.as_view())
