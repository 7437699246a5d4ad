"""The resident terminal's call screen, mounted at ``terminal/`` beside the terminal's booking pages."""

from django.urls import path

from . import views_people as views

app_name = "calls-terminal"

urlpatterns = [
    path("call/", views.terminal_call, name="call"),
]
