"""Safeguarding records. Restrictions, contact bans, suspensions and appeals are in ``restrictions``; incidents,
wellbeing follow-ups and deadline reminders in ``welfare``."""

from .restrictions import *  # noqa: F403
from .welfare import *  # noqa: F403
