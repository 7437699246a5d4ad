"""factory-boy factories shared by every app's tests (tests only: nothing in the service imports this)."""

from __future__ import annotations

from datetime import date
from typing import Any

import factory
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from kinship.accounts.models import StaffRole, TermsAcceptance, TermsVersion, User, UserKind
from kinship.core.roles import Role
from kinship.establishments.models import Establishment, Room, Terminal
from kinship.people.models import (
    CompactKind,
    CompactOutcome,
    CompactRecord,
    CompactText,
    Contact,
    ContactLink,
    ContactSource,
    LinkStatus,
    Resident,
    RiskAssessment,
    RiskAssessmentKind,
    RiskAssessmentOutcome,
)

TEST_PASSWORD = "correct horse battery staple"  # noqa: S105 - test accounts only


class EstablishmentFactory(factory.django.DjangoModelFactory[Establishment]):
    class Meta:
        model = Establishment
        django_get_or_create = ("code",)

    name = factory.Sequence(lambda n: f"HMP Example {n}")
    code = factory.Sequence(lambda n: f"EX{n:03d}")
    profile = "prison"
    type = "prison"
    safer_custody_hotline = "0800 000 0001"


class IrcFactory(EstablishmentFactory):
    name = factory.Sequence(lambda n: f"Example IRC {n}")
    code = factory.Sequence(lambda n: f"IR{n:03d}")
    profile = "immigration_detention"
    type = "irc"


class YouthCustodyFactory(EstablishmentFactory):
    name = factory.Sequence(lambda n: f"Example YOI {n}")
    code = factory.Sequence(lambda n: f"YC{n:03d}")
    profile = "youth_custody"
    type = "under_18_yoi"


class RoomFactory(factory.django.DjangoModelFactory[Room]):
    class Meta:
        model = Room

    establishment = factory.SubFactory(EstablishmentFactory)
    name = factory.Sequence(lambda n: f"Room {n}")
    accessible = False


class TerminalFactory(factory.django.DjangoModelFactory[Terminal]):
    class Meta:
        model = Terminal

    establishment = factory.SubFactory(EstablishmentFactory)
    name = factory.Sequence(lambda n: f"Terminal {n}")
    kind = "resident"


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    first_name = "Sam"
    last_name = factory.Sequence(lambda n: f"Person{n}")
    kind = UserKind.CONTACT
    email_verified_at = factory.LazyFunction(timezone.now)
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def save_password(obj: User, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            obj.save()


class StaffFactory(UserFactory):
    kind = UserKind.STAFF

    @factory.post_generation
    def roles(obj: User, create: bool, extracted: Any, **kwargs: Any) -> None:
        """``StaffFactory(roles=[(establishment, Role.GOVERNOR), ...])``."""
        if create and extracted:
            for establishment, role in extracted:
                StaffRole.objects.create(user=obj, establishment=establishment, role=role)


def staff_with(role: Role, establishment: Establishment, **kwargs: Any) -> User:
    return StaffFactory(roles=[(establishment, role)], **kwargs)


def verified_totp_device(user: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


class TermsVersionFactory(factory.django.DjangoModelFactory[TermsVersion]):
    class Meta:
        model = TermsVersion

    version = factory.Sequence(lambda n: f"1.{n}")
    body = "You must not record the call. Dress appropriately. Be respectful."
    published_at = factory.LazyFunction(timezone.now)


def accept_current_terms(user: User) -> None:
    current = TermsVersion.current() or TermsVersionFactory()
    TermsAcceptance.objects.get_or_create(user=user, terms=current)


class ResidentFactory(factory.django.DjangoModelFactory[Resident]):
    class Meta:
        model = Resident

    establishment = factory.SubFactory(EstablishmentFactory)
    identifier = factory.Sequence(lambda n: f"A{n:04d}BC")
    first_name = "Alex"
    last_name = factory.Sequence(lambda n: f"Resident{n}")
    date_of_birth = date(1990, 5, 17)
    location = "A wing"


class ContactFactory(factory.django.DjangoModelFactory[Contact]):
    class Meta:
        model = Contact

    user = factory.SubFactory(UserFactory)
    first_name = factory.SelfAttribute("user.first_name")
    last_name = factory.SelfAttribute("user.last_name")
    date_of_birth = date(1985, 2, 3)
    email = factory.SelfAttribute("user.email")
    identity_verified_at = factory.LazyFunction(timezone.now)


class ContactLinkFactory(factory.django.DjangoModelFactory[ContactLink]):
    class Meta:
        model = ContactLink

    resident = factory.SubFactory(ResidentFactory)
    contact = factory.SubFactory(ContactFactory)
    relationship = "Sister"
    source = ContactSource.PHONE_LIST
    status = LinkStatus.APPROVED
    status_changed_at = factory.LazyFunction(timezone.now)


class CompactTextFactory(factory.django.DjangoModelFactory[CompactText]):
    class Meta:
        model = CompactText
        django_get_or_create = ("kind", "version", "language")

    kind = CompactKind.PRISON
    version = "1"
    language = "English"
    body = "I will follow the rules for video calls."


class CompactRecordFactory(factory.django.DjangoModelFactory[CompactRecord]):
    class Meta:
        model = CompactRecord

    resident = factory.SubFactory(ResidentFactory)
    text = factory.SubFactory(CompactTextFactory)
    outcome = CompactOutcome.SIGNED
    language = "English"
    explained_by = factory.SubFactory(StaffFactory)


class RiskAssessmentFactory(factory.django.DjangoModelFactory[RiskAssessment]):
    class Meta:
        model = RiskAssessment

    resident = factory.SubFactory(ResidentFactory)
    kind = RiskAssessmentKind.ELIGIBILITY
    outcome = RiskAssessmentOutcome.ALLOW
    rationale = "No concerns found."
    assessed_by = factory.SubFactory(StaffFactory)
