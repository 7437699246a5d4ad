"""``manage.py load_demo``: demo establishments, people and staff log-ins for trying Kinship locally.

Idempotent: running it again changes nothing that is already there. Refuses to run outside the development and
test profiles, because it creates log-ins with a published password.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from PIL import Image

from kinship.accounts.models import (
    IdentityVerification,
    StaffRole,
    TermsAcceptance,
    TermsVersion,
    User,
    UserKind,
    VerificationStatus,
)
from kinship.audit.services import audit_record
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
    LinkRequest,
    LinkStatus,
    Resident,
    RiskAssessment,
    RiskAssessmentKind,
    RiskAssessmentOutcome,
    SupportNeed,
)

DEMO_PASSWORD = "kinship-demo-only"  # noqa: S105 - published on purpose; the command refuses to run in production
DEMO_DOMAIN = "demo.kinship.test"

TERMS = """You must be on the approved list of the person you call. You must not record the call in any way.
Dress as you would for a visit. Do not use foul or abusive language. Staff watch calls and may pause or end a
call that breaks these terms. In prisons calls are recorded; in immigration removal centres they are not."""

PRISON_COMPACT = """I understand that my video calls are watched and recorded by staff. I will not let anyone
join who has not been approved. I will not show or say anything that breaks the rules of the establishment."""

IRC_COMPACT = """I understand that staff may see my video calls but will not record them. I will follow the rules
for video calls. A breach of the rules may mean I cannot book calls for a time."""

ESTABLISHMENTS: list[dict[str, Any]] = [
    {
        "code": "DPR",
        "name": "HMP Demo",
        "profile": "prison",
        "type": "prison",
        "safer_custody_hotline": "0800 496 0001",
    },
    {
        "code": "DYC",
        "name": "HMYOI Demo (under 18)",
        "profile": "youth_custody",
        "type": "under_18_yoi",
        "safer_custody_hotline": "0800 496 0002",
    },
    {
        "code": "DIR",
        "name": "Demo Immigration Removal Centre",
        "profile": "immigration_detention",
        "type": "irc",
        "safer_custody_hotline": "0800 496 0003",
    },
]

# (code, identifier, first, last, born, flags)
RESIDENTS: list[tuple[str, str, str, str, date, dict[str, Any]]] = [
    ("DPR", "A1001AA", "Daniel", "Price", date(1984, 3, 9), {}),
    ("DPR", "A1002AB", "Marcus", "Hill", date(1979, 11, 21), {"e_list": True}),
    ("DPR", "A1003AC", "Terry", "Dawson", date(1971, 6, 2), {"pprc": True}),
    (
        "DPR",
        "A1004AD",
        "Leon",
        "Okafor",
        date(1990, 1, 30),
        {"large_family_exception": True, "support_needs": [SupportNeed.PHYSICAL]},
    ),
    ("DPR", "A1005AE", "Ryan", "Kemp", date(1995, 8, 14), {"support_needs": [SupportNeed.HEARING]}),
    ("DYC", "B2001BA", "Jayden", "Moss", date(2009, 4, 18), {"support_needs": [SupportNeed.LEARNING]}),
    ("DYC", "B2002BB", "Kai", "Walsh", date(2010, 2, 7), {}),
    ("DIR", "HO-700101", "Amir", "Haddad", date(1988, 12, 1), {"language": "Arabic"}),
    (
        "DIR",
        "HO-700102",
        "Piotr",
        "Nowak",
        date(1992, 5, 25),
        {"language": "Polish", "imminent_removal_directions": True},
    ),
    ("DIR", "HO-700103", "Samuel", "Mensah", date(1986, 9, 3), {"harassment_measures": True}),
]


class Command(BaseCommand):
    help = "Load demo establishments, people and staff log-ins (development only; safe to run again)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEVELOPMENT:
            raise CommandError(
                "load_demo only runs with KINSHIP_ENV=development (it publishes its password)."
            )
        with transaction.atomic():
            created = self._load()
            if created:
                audit_record(action="demo_data_loaded", after={"records_created": created})
        self._print_summary(created)

    def _load(self) -> int:
        self.created = 0
        now = timezone.now()
        terms = self._get(TermsVersion, {"version": "1.0"}, {"body": TERMS, "published_at": now})
        compact_texts = {
            ("prison", "English"): self._get(
                CompactText,
                {"kind": CompactKind.PRISON, "version": "1", "language": "English"},
                {"body": PRISON_COMPACT},
            ),
            ("prison", "Welsh"): self._get(
                CompactText,
                {"kind": CompactKind.PRISON, "version": "1", "language": "Welsh"},
                {"body": "Rwy'n deall bod staff yn gwylio ac yn recordio fy ngalwadau fideo."},
            ),
            ("irc", "English"): self._get(
                CompactText,
                {"kind": CompactKind.IRC, "version": "1", "language": "English"},
                {"body": IRC_COMPACT},
            ),
            ("irc", "Arabic"): self._get(
                CompactText,
                {"kind": CompactKind.IRC, "version": "1", "language": "Arabic"},
                {"body": "أفهم أن الموظفين قد يشاهدون مكالماتي المرئية ولكنهم لن يسجلوها."},
            ),
            ("irc", "Polish"): self._get(
                CompactText,
                {"kind": CompactKind.IRC, "version": "1", "language": "Polish"},
                {"body": "Rozumiem, że personel może widzieć moje rozmowy wideo, ale ich nie nagrywa."},
            ),
        }

        establishments = {}
        for spec in ESTABLISHMENTS:
            establishment = self._get(
                Establishment, {"code": spec["code"]}, {k: v for k, v in spec.items() if k != "code"}
            )
            establishments[spec["code"]] = establishment
            for room_name, accessible in (("Video room 1", True), ("Video room 2", False)):
                room = self._get(
                    Room, {"establishment": establishment, "name": room_name}, {"accessible": accessible}
                )
                self._get(
                    Terminal,
                    {"establishment": establishment, "name": f"{room_name} terminal"},
                    {"room": room, "kind": "resident"},
                )
            self._get(
                Terminal,
                {"establishment": establishment, "name": "Monitoring station 1"},
                {"kind": "monitoring"},
            )

        staff = {role: self._staff(role, list(establishments.values())) for role in Role}
        explainer = staff[Role.SUPERVISING_OFFICER]

        residents = {}
        for code, identifier, first, last, born, flags in RESIDENTS:
            establishment = establishments[code]
            resident = self._get(
                Resident,
                {"identifier": identifier},
                {
                    "establishment": establishment,
                    "first_name": first,
                    "last_name": last,
                    "date_of_birth": born,
                    "location": "Houseblock 1" if code != "DIR" else "Unit B",
                    **flags,
                },
            )
            residents[identifier] = resident
            kind = "irc" if establishment.profile == "immigration_detention" else "prison"
            language = flags.get("language", "English")
            text = compact_texts.get((kind, language), compact_texts[(kind, "English")])
            refused = identifier == "A1005AE"
            if not resident.compacts.exists():
                self.created += 1
                CompactRecord.objects.create(
                    resident=resident,
                    text=text,
                    outcome=CompactOutcome.REFUSED if refused else CompactOutcome.SIGNED,
                    language=language,
                    interpreter_used=language not in {"English", "Welsh"},
                    explained_by=explainer,
                )
            if not resident.risk_assessments.exists():
                self.created += 1
                RiskAssessment.objects.create(
                    resident=resident,
                    kind=RiskAssessmentKind.ELIGIBILITY,
                    outcome=RiskAssessmentOutcome.ALLOW,
                    rationale="No concerns about video calls found in the security and safeguarding checks.",
                    assessed_by=staff[Role.SECURITY],
                    review_date=date(now.year + 1, 1, 31),
                )
            if (
                flags.get("harassment_measures")
                and not resident.risk_assessments.filter(kind=RiskAssessmentKind.INDIVIDUAL).exists()
            ):
                self.created += 1
                RiskAssessment.objects.create(
                    resident=resident,
                    kind=RiskAssessmentKind.INDIVIDUAL,
                    outcome=RiskAssessmentOutcome.ALLOW,
                    rationale="Individual risk assessment under DSO 14: calls allowed with named contacts only.",
                    assessed_by=staff[Role.SECURITY],
                )

        # Contacts: adults with accounts, a child without one, a legal adviser.
        sarah = self._contact("sarah.price", "Sarah", "Price", date(1986, 7, 12), terms)
        maya = self._contact("maya.hill", "Maya", "Hill", date(1982, 2, 2), terms)
        grace = self._contact("grace.walsh", "Grace", "Walsh", date(1980, 10, 10), terms)
        layla = self._contact("layla.haddad", "Layla", "Haddad", date(1991, 4, 4), terms)
        solicitor = self._contact(
            "r.shah",
            "Rina",
            "Shah",
            date(1975, 1, 15),
            terms,
            legal=True,
            organisation="Shah Immigration Law",
        )
        newcomer = self._contact("new.contact", "Chris", "Jordan", date(1993, 3, 3), terms)
        child = self._get(
            Contact, {"first_name": "Lily", "last_name": "Price"}, {"date_of_birth": date(2016, 9, 1)}
        )

        approver = staff[Role.BOOKING_CLERK]
        for resident_id, contact, relationship, extra in [
            ("A1001AA", sarah, "Wife", {}),
            ("A1001AA", child, "Daughter", {}),
            ("A1002AB", maya, "Sister", {}),
            ("A1003AC", sarah, "Cousin", {"source": ContactSource.VISITS_LIST}),
            ("B2002BB", grace, "Mother", {}),
            ("HO-700101", layla, "Wife", {}),
            ("HO-700101", solicitor, "Legal adviser", {}),
        ]:
            self._get(
                ContactLink,
                {"resident": residents[resident_id], "contact": contact},
                {
                    "relationship": relationship,
                    "source": extra.get("source", ContactSource.PHONE_LIST),
                    "status": LinkStatus.APPROVED,
                    "status_changed_by": approver,
                    "status_changed_at": now,
                },
            )
        self._get(
            LinkRequest,
            {"contact": newcomer, "establishment": establishments["DPR"]},
            {
                "resident_first_name": "Ryan",
                "resident_last_name": "Kemp",
                "resident_date_of_birth": date(1995, 8, 14),
                "relationship": "Friend",
            },
        )
        return self.created

    def _get(self, model: Any, lookup: dict[str, Any], defaults: dict[str, Any]) -> Any:
        obj, created = model.objects.get_or_create(**lookup, defaults=defaults)
        self.created += int(created)
        return obj

    def _staff(self, role: Role, establishments: list[Establishment]) -> User:
        email = f"{role.value.replace('_', '.')}@{DEMO_DOMAIN}"
        user = User.objects.filter(email=email).first()
        if user is None:
            self.created += 1
            user = User.objects.create_user(
                email=email,
                password=DEMO_PASSWORD,
                kind=UserKind.STAFF,
                first_name="Demo",
                last_name=role.label,
                email_verified_at=timezone.now(),
                is_staff=role == Role.SYSTEM_ADMINISTRATOR,
                is_superuser=role == Role.SYSTEM_ADMINISTRATOR,
            )
        for establishment in establishments:
            self._get(StaffRole, {"user": user, "establishment": establishment, "role": role}, {})
        self._get(TOTPDevice, {"user": user, "name": "Demo authenticator"}, {"confirmed": True})
        return user

    def _contact(
        self,
        local: str,
        first: str,
        last: str,
        born: date,
        terms: TermsVersion,
        *,
        legal: bool = False,
        organisation: str = "",
    ) -> Contact:
        email = f"{local}@{DEMO_DOMAIN}"
        user = User.objects.filter(email=email).first()
        if user is None:
            self.created += 1
            user = User.objects.create_user(
                email=email,
                password=DEMO_PASSWORD,
                kind=UserKind.CONTACT,
                first_name=first,
                last_name=last,
                email_verified_at=timezone.now(),
            )
        self._get(TermsAcceptance, {"user": user, "terms": terms}, {})
        if not user.identity_verifications.filter(status=VerificationStatus.VERIFIED).exists():
            self.created += 1
            check = IdentityVerification(
                user=user,
                status=VerificationStatus.VERIFIED,
                reviewed_at=timezone.now(),
            )
            check.photo_id.save("demo-id.png", ContentFile(_demo_image((40, 70, 140))), save=False)
            check.photo_of_self.save("demo-self.png", ContentFile(_demo_image((140, 90, 40))), save=False)
            check.save()
        return self._get(
            Contact,
            {"user": user},
            {
                "first_name": first,
                "last_name": last,
                "date_of_birth": born,
                "email": email,
                "is_legal_adviser": legal,
                "organisation": organisation,
                "identity_verified_at": timezone.now(),
            },
        )

    def _print_summary(self, created: int) -> None:
        out = self.stdout.write
        out(self.style.SUCCESS(f"Demo data ready ({created} records created)."))
        out("")
        out("Kinship is starting on http://127.0.0.1:8000/  (sign in at http://127.0.0.1:8000/sign-in/)")
        out(f"Every demo log-in uses the password: {DEMO_PASSWORD}")
        out("")
        out("Staff (roles at HMP Demo DPR, HMYOI Demo DYC and Demo IRC DIR):")
        for role in Role:
            user = User.objects.get(email=f"{role.value.replace('_', '.')}@{DEMO_DOMAIN}")
            device = TOTPDevice.objects.get(user=user, name="Demo authenticator")
            out(f"  {role.label:<28} {user.email:<45} TOTP secret {device_secret(device)}")
        out(
            "  Staff sign-in asks for a TOTP code: add the secret to an authenticator app, or print the current"
        )
        out("  code with:  KINSHIP_ENV=development .venv/bin/python manage.py demo_totp EMAIL")
        out("")
        out("Contacts:")
        for user in User.objects.filter(kind=UserKind.CONTACT, email__endswith=DEMO_DOMAIN).order_by("email"):
            out(f"  {user.get_full_name():<28} {user.email}")


def _demo_image(colour: tuple[int, int, int]) -> bytes:
    """A plain picture standing in for a demo contact's identity photos (checked as verified)."""
    import io

    buffer = io.BytesIO()
    Image.new("RGB", (120, 160), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def device_secret(device: TOTPDevice) -> str:
    import base64

    return base64.b32encode(device.bin_key).decode().rstrip("=")
