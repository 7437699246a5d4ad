"""WebSocket routes of the calls app (mounted by config/asgi.py)."""

from __future__ import annotations

from django.urls import path

from .consumers import CallConsumer
from .consumers_precheck import PrecheckConsumer

websocket_urlpatterns = [
    path("ws/calls/<uuid:booking_id>/", CallConsumer.as_asgi()),
    path("ws/precheck/", PrecheckConsumer.as_asgi()),
]
