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
]
