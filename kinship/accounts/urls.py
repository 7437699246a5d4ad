"""Account URLs, included at the site root (namespace ``accounts``)."""

from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("sign-in/", views.sign_in, name="sign-in"),
    path("sign-out/", views.sign_out, name="sign-out"),
    path("two-factor/", views.two_factor, name="two-factor"),
    path("two-factor/set-up/", views.two_factor_setup, name="two-factor-setup"),
    path("sign-up/", views.sign_up, name="sign-up"),
    path("verify-email/", views.verify_email_sent, name="verify-email-sent"),
    path("verify-email/resend/", views.verify_email_resend, name="verify-email-resend"),
    path("verify-email/<str:token>/", views.verify_email, name="verify-email"),
    path("terms/", views.terms, name="terms"),
    path("home/", views.contact_home, name="contact-home"),
    path("link-requests/<uuid:pk>/", views.link_request_detail, name="link-request"),
    path("profile/", views.profile, name="profile"),
    path("profile/details/", views.profile_details, name="profile-details"),
    path("profile/email/", views.profile_email, name="profile-email"),
    path("profile/password/", views.profile_password, name="profile-password"),
    path("identity/", views.identity, name="identity"),
    path("password-reset/", views.password_reset, name="password-reset"),
    path("password-reset/sent/", views.password_reset_sent, name="password-reset-sent"),
    path("password-reset/done/", views.password_reset_complete, name="password-reset-complete"),
    path("password-reset/<uidb64>/<token>/", views.password_reset_confirm, name="password-reset-confirm"),
    # Staff: identity checks for contacts linked, or asking to be linked, to this establishment.
    path("staff/<str:establishment>/identity/", views.identity_queue, name="identity-queue"),
    path("staff/<str:establishment>/identity/<uuid:pk>/", views.identity_review, name="identity-review"),
    path(
        "staff/<str:establishment>/identity/<uuid:pk>/<slug:document>/",
        views.identity_document,
        name="identity-document",
    ),
]
