"""Background tasks (django.tasks): the call clock (``services.calls_tick_run``), enqueued by ``manage.py clock``.

Run the clock every minute for calls (``manage.py clock --every 60``): the 1-minute warning needs it."""

from __future__ import annotations

import logging

from django.tasks import task
from django.utils import timezone

from .provider import MediaNotConfigured, media_server
from .services import calls_tick_run

logger = logging.getLogger(__name__)


@task()
def calls_tick() -> dict[str, int | str]:
    try:
        media = media_server()
    except MediaNotConfigured as problem:
        logger.warning("Call clock not run: %s", problem)
        return {"skipped": str(problem)}
    return dict(calls_tick_run(media=media, now=timezone.now()).as_dict())
