"""Bookings URLs (resident terminal pages), mounted at ``terminal/``; the staff PIN page is under ``staff-pin/``."""

from django.urls import path

from . import views_terminal as views

app_name = "bookings-terminal"

urlpatterns = [
    path("", views.home, name="home"),
    path("me/", views.me, name="me"),
    path("me/request/", views.request_call, name="request"),
    path("finish/", views.finish, name="finish"),
    path("staff-pin/<str:establishment>/<uuid:resident_id>/", views.staff_pin, name="staff-pin"),
]
