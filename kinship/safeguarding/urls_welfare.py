"""Safeguarding staff pages: incidents, wellbeing follow-ups, risk inputs' history and the deadlines dashboard."""

from django.urls import path

from . import views_welfare as views

app_name = "safeguarding-welfare"

urlpatterns = [
    path("<str:establishment>/safeguarding/deadlines/", views.deadlines_dashboard, name="deadlines"),
    path("<str:establishment>/safeguarding/incidents/", views.incidents, name="incidents"),
    path("<str:establishment>/safeguarding/incidents/new/", views.incident_new, name="incident-new"),
    path(
        "<str:establishment>/safeguarding/incidents/<uuid:incident_id>/",
        views.incident_detail,
        name="incident",
    ),
    path(
        "<str:establishment>/safeguarding/incidents/<uuid:incident_id>/update/",
        views.incident_update,
        name="incident-update",
    ),
    path("<str:establishment>/safeguarding/wellbeing/", views.wellbeing_list, name="wellbeing-list"),
    path("<str:establishment>/safeguarding/wellbeing/new/", views.wellbeing_new, name="wellbeing-new"),
    path(
        "<str:establishment>/safeguarding/wellbeing/<uuid:follow_up_id>/",
        views.wellbeing_detail,
        name="wellbeing",
    ),
    path(
        "<str:establishment>/safeguarding/residents/<uuid:resident_id>/risk/",
        views.risk_history,
        name="risk-history",
    ),
]
