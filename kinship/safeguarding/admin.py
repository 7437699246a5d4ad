"""Admin registrations of the safeguarding app, one module per half."""

from .admin_restrictions import *  # noqa: F403

# from .admin_welfare import *  (incidents, wellbeing: the welfare half)
