"""Staff booking pages, mounted under ``staff/``; every path starts with the establishment's code (see
kinship.core.permissions.staff_required)."""

from django.urls import path

from . import views_staff as views

app_name = "bookings-staff"

urlpatterns = [
    # Schedule editor (establishment administrators).
    path("<str:establishment>/schedule/", views.schedule, name="schedule"),
    path("<str:establishment>/schedule/sessions/add/", views.session_add, name="session-add"),
    path("<str:establishment>/schedule/sessions/<uuid:session_id>/", views.session_edit, name="session-edit"),
    path(
        "<str:establishment>/schedule/sessions/<uuid:session_id>/remove/",
        views.session_delete,
        name="session-delete",
    ),
    path("<str:establishment>/schedule/closed-dates/add/", views.closed_date_add, name="closed-date-add"),
    path("<str:establishment>/schedule/roster/add/", views.roster_add, name="roster-add"),
    path("<str:establishment>/schedule/publish/", views.schedule_publish, name="publish"),
    # Daily and weekly board, printable daily list.
    path("<str:establishment>/calls/day/", views.day_view, name="day"),
    path("<str:establishment>/calls/week/", views.week_view, name="week"),
    path("<str:establishment>/calls/daily-list/", views.daily_list, name="daily-list"),
    # Requests, reviews, cancellations.
    path("<str:establishment>/calls/requests/", views.request_queue, name="requests"),
    path("<str:establishment>/calls/requests/<uuid:booking_id>/", views.request_decide, name="request"),
    path("<str:establishment>/calls/reviews/", views.review_queue, name="reviews"),
    path("<str:establishment>/calls/reviews/<uuid:review_id>/", views.review_close, name="review"),
    path("<str:establishment>/calls/<uuid:booking_id>/cancel/", views.booking_cancel, name="cancel"),
    # People: calls on their behalf, allowance and grants, release or transfer.
    path("<str:establishment>/calls/people/", views.residents, name="residents"),
    path(
        "<str:establishment>/calls/people/<uuid:resident_id>/request/", views.request_new, name="request-new"
    ),
    path("<str:establishment>/calls/people/<uuid:resident_id>/allowance/", views.allowance, name="allowance"),
    path(
        "<str:establishment>/calls/people/<uuid:resident_id>/extra-call/", views.grant_add, name="grant-add"
    ),
    path(
        "<str:establishment>/calls/people/<uuid:resident_id>/release-or-transfer/",
        views.resident_move,
        name="resident-move",
    ),
]
