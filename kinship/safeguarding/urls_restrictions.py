"""Safeguarding staff pages: restrictions, suspensions and appeals."""

from django.urls import path

from . import views_restrictions as views

app_name = "safeguarding-restrictions"

urlpatterns = [
    path("<str:establishment>/safeguarding/", views.overview, name="overview"),
    path(
        "<str:establishment>/safeguarding/residents/<uuid:resident_id>/restrict/",
        views.restriction_new,
        name="restriction-new",
    ),
    path(
        "<str:establishment>/safeguarding/residents/<uuid:resident_id>/suspend/",
        views.suspension_new,
        name="suspension-new",
    ),
    path(
        "<str:establishment>/safeguarding/suspensions/<uuid:suspension_id>/",
        views.suspension_detail,
        name="suspension",
    ),
    path(
        "<str:establishment>/safeguarding/suspensions/<uuid:suspension_id>/notice.pdf",
        views.suspension_notice,
        name="suspension-notice",
    ),
    path(
        "<str:establishment>/safeguarding/suspensions/<uuid:suspension_id>/authorise/",
        views.suspension_authorise,
        name="suspension-authorise",
    ),
    path(
        "<str:establishment>/safeguarding/suspensions/<uuid:suspension_id>/review/",
        views.suspension_review,
        name="suspension-review",
    ),
    path(
        "<str:establishment>/safeguarding/suspensions/<uuid:suspension_id>/appeal/",
        views.appeal_new,
        name="appeal-new",
    ),
    path(
        "<str:establishment>/safeguarding/appeals/<uuid:appeal_id>/decide/",
        views.appeal_decide,
        name="appeal-decide",
    ),
    path(
        "<str:establishment>/safeguarding/appeals/<uuid:appeal_id>/scan/",
        views.appeal_scan,
        name="appeal-scan",
    ),
    path(
        "<str:establishment>/safeguarding/appeals/<uuid:appeal_id>/decision.pdf",
        views.appeal_notice,
        name="appeal-notice",
    ),
    path(
        "<str:establishment>/safeguarding/restrictions/<uuid:restriction_id>/",
        views.restriction_detail,
        name="restriction",
    ),
    path(
        "<str:establishment>/safeguarding/residents/<uuid:resident_id>/ban-contact/",
        views.contact_ban_new,
        name="contact-ban-new",
    ),
    path(
        "<str:establishment>/safeguarding/contact-bans/<uuid:ban_id>/",
        views.contact_ban_detail,
        name="contact-ban",
    ),
    path("<str:establishment>/safeguarding/visitor-bans/new/", views.visitor_ban_new, name="visitor-ban-new"),
    path(
        "<str:establishment>/safeguarding/visitor-bans/<uuid:ban_id>/",
        views.visitor_ban_detail,
        name="visitor-ban",
    ),
    path(
        "<str:establishment>/safeguarding/residents/<uuid:resident_id>/authorise-banned-visitor/",
        views.banned_visitor_authorise,
        name="banned-visitor-authorise",
    ),
    path("<str:establishment>/safeguarding/residents/", views.resident_find, name="resident-find"),
    path(
        "<str:establishment>/safeguarding/residents/<uuid:resident_id>/restrictions/",
        views.resident_restrictions,
        name="resident",
    ),
]
