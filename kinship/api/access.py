"""Who may use the API, the same rules as the pages: a signed-in contact sees only their own bookings; staff
(second factor passed) act only at an establishment where they hold one of the roles an endpoint names.

Refusals are ``ApiProblem``s, turned into 4xx JSON bodies by ``errors``: 401 when nobody is signed in, 403 when
the person signed in may not do this, 404 when the record is not theirs to know about.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, cast

from django.conf import settings
from django.db import models
from django.http import HttpRequest
from ninja.security import SessionAuth

from kinship.accounts.models import User
from kinship.core.permissions import ViewFunction, mark
from kinship.core.prepared import PreparedQuery
from kinship.core.roles import RECORD_READERS, Role
from kinship.establishments.models import Establishment
from kinship.people.models import Contact

from .errors import ApiProblem

#: Who may read slots and bookings at an establishment (as the staff pages: the record readers).
BOOKING_READERS: frozenset[Role] = RECORD_READERS
#: Who may book on a resident's behalf, approve, reject and cancel.
BOOKING_DECIDERS: frozenset[Role] = frozenset({Role.BOOKING_CLERK, Role.GOVERNOR})


def declare[Endpoint: Callable[..., object]](
    access: str, roles: Iterable[Role] = ()
) -> Callable[[Endpoint], Endpoint]:
    """Declare who an endpoint is for, with the project's marker (``kinship_access``/``kinship_roles``); urls.py
    puts the declaration on the URL. The auth class and ``staff_establishment`` enforce it."""

    def decorate(endpoint: Endpoint) -> Endpoint:
        mark(access, roles)(cast(ViewFunction, endpoint))
        return endpoint

    return decorate


class ContactSession(SessionAuth):
    """Django's session, with CSRF for unsafe methods, for a contact with a verified email address."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = request.user
        if not user.is_authenticated:
            return None
        if not (user.is_active and getattr(user, "is_contact", False)):
            raise ApiProblem(403, "access.contacts_only", "Only contacts can use this.")
        if user.email_verified_at is None:
            raise ApiProblem(403, "access.email_unverified", "Confirm your email address first.")
        return user


class StaffSession(SessionAuth):
    """Django's session, with CSRF for unsafe methods, for staff who passed the second factor (the middleware
    already sends anyone else to the two-factor page; this is the second lock on the door)."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = request.user
        if not user.is_authenticated:
            return None
        if not (user.is_active and getattr(user, "is_staff_member", False)):
            raise ApiProblem(403, "access.staff_only", "Only staff can use this.")
        if settings.KINSHIP_REQUIRE_STAFF_2FA and not user.is_verified():  # type: ignore[attr-defined]
            raise ApiProblem(403, "access.two_factor", "Complete two-factor authentication first.")
        return user


#: The contact record of a user (every request of a contact's API reads it: compiled once, kinship.core.prepared).
_CONTACT_OF_USER = PreparedQuery(
    lambda user: Contact.objects.filter(user_id=user)[:1], user=models.BigIntegerField()
)


def contact_read(request: HttpRequest) -> tuple[PreparedQuery, dict[str, Any]]:
    """``contact_of``'s read, for an endpoint to make with its own in one round trip (``read_ahead``)."""
    user: User = request.auth  # type: ignore[attr-defined]
    return _CONTACT_OF_USER, {"user": user.pk}


def contact_of(request: HttpRequest) -> Contact:
    """The signed-in contact's record (every contact account has one once signed up)."""
    query, values = contact_read(request)
    contact: Contact | None = query.first(**values)
    if contact is None:
        raise ApiProblem(403, "access.no_contact_record", "Your account has no contact details yet.")
    return contact


def staff_establishment(request: HttpRequest, code: str, roles: Iterable[Role]) -> Establishment:
    """The establishment named in the URL, when the signed-in member of staff holds one of ``roles`` there."""
    place = Establishment.objects.filter(code=code).first()
    if place is None:
        raise ApiProblem(404, "not_found.establishment", "There is no establishment with this code.")
    user: User = request.auth  # type: ignore[attr-defined]
    if not user.roles_at(place) & set(roles):
        raise ApiProblem(403, "access.role", "You do not hold a role at this establishment that allows this.")
    return place
