"""Background tasks (django.tasks): the deadline reminder and escalation pass (``deadlines.deadlines_run``)."""

from __future__ import annotations

from django.tasks import task

from . import deadlines


@task()
def safeguarding_deadlines_pass() -> dict[str, int]:
    result = deadlines.deadlines_run()
    return {"reminders": result.reminders, "escalations": result.escalations}
