"""Staff pages for the records about people, mounted under ``staff/`` and scoped to one establishment."""

from django.urls import path

from . import views

app_name = "people"

urlpatterns = [
    path("<str:establishment>/residents/", views.residents, name="residents"),
    path("<str:establishment>/residents/add/", views.resident_add, name="resident-add"),
    path("<str:establishment>/residents/<uuid:resident_id>/", views.resident_detail, name="resident"),
    path("<str:establishment>/residents/<uuid:resident_id>/edit/", views.resident_edit, name="resident-edit"),
    path("<str:establishment>/residents/<uuid:resident_id>/compact/", views.compact_add, name="compact-add"),
    path(
        "<str:establishment>/residents/<uuid:resident_id>/risk-assessment/",
        views.risk_assessment_add,
        name="risk-assessment-add",
    ),
    path("<str:establishment>/compact-texts/", views.compact_texts, name="compact-texts"),
    path("<str:establishment>/compact-texts/add/", views.compact_text_add, name="compact-text-add"),
    path("<str:establishment>/contacts/<uuid:contact_id>/", views.contact_detail, name="contact"),
    path("<str:establishment>/links/<uuid:link_id>/decision/", views.link_decide, name="link-decide"),
    path("<str:establishment>/links/<uuid:link_id>/edit/", views.link_edit, name="link-edit"),
    path("<str:establishment>/link-requests/", views.link_requests, name="link-requests"),
    path(
        "<str:establishment>/link-requests/<uuid:request_id>/", views.link_request_decide, name="link-request"
    ),
]
