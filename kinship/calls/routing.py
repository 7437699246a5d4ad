"""WebSocket routes of the calls app (mounted by config/asgi.py)."""

from __future__ import annotations

from django.urls import path

from .consumers import CallConsumer

websocket_urlpatterns = [
    path("ws/calls/<uuid:booking_id>/", CallConsumer.as_asgi()),
]
