"""The words the policies use: profiles, establishment types, roles, reasons, kinds of call and record.

Every enum here is a ``StrEnum`` so that its values can be stored as they are in a database column and shown
in the catalogue. The Django side mirrors them as ``TextChoices``; nothing here knows about Django.
"""

from __future__ import annotations

from enum import StrEnum


class Profile(StrEnum):
    """An establishment's profile: it fixes which rules apply (POLICY.md, "Profiles")."""

    PRISON = "prison"
    YOUTH_CUSTODY = "youth_custody"
    IMMIGRATION_DETENTION = "immigration_detention"


#: The profiles the HMPPS Policy Framework ("PF") governs.
PRISON_PROFILES: frozenset[Profile] = frozenset({Profile.PRISON, Profile.YOUTH_CUSTODY})
#: The profile DSO 01/2020 governs.
IMMIGRATION_PROFILES: frozenset[Profile] = frozenset({Profile.IMMIGRATION_DETENTION})
ALL_PROFILES: frozenset[Profile] = PRISON_PROFILES | IMMIGRATION_PROFILES


class EstablishmentType(StrEnum):
    PRISON = "prison"
    YOI = "yoi"
    UNDER_18_YOI = "under_18_yoi"
    SECURE_TRAINING_CENTRE = "secure_training_centre"
    IRC = "irc"
    RSTHF = "rsthf"
    PDA = "pda"
    NON_RESIDENTIAL_STHF = "non_residential_sthf"


class Role(StrEnum):
    """Staff roles (DESIGN.md, "The people it serves"). A person can hold several."""

    BOOKING_CLERK = "booking_clerk"
    SUPERVISING_OFFICER = "supervising_officer"
    MONITORING_OFFICER = "monitoring_officer"
    SECURITY = "security"
    GOVERNOR = "governor"
    OPERATIONAL_MANAGER = "operational_manager"
    CENTRE_MANAGER = "centre_manager"
    DEPUTY_CENTRE_MANAGER = "deputy_centre_manager"
    COMPLIANCE_MANAGER = "compliance_manager"
    DATA_PROTECTION_OFFICER = "data_protection_officer"
    SYSTEM_ADMINISTRATOR = "system_administrator"


class RequestModel(StrEnum):
    """Who may ask for a call (PF 4.6), chosen per establishment."""

    RESIDENT = "resident"
    CONTACT = "contact"
    BOTH = "both"


class Requester(StrEnum):
    """Who asked for this particular call. Staff booking on someone's behalf record whose request it was."""

    RESIDENT = "resident"
    CONTACT = "contact"


class AllowancePattern(StrEnum):
    """The governor's choice under PF 4.1: one call of up to 60 minutes, or two of up to 30."""

    ONE_60 = "one_60"
    TWO_30 = "two_30"


class CallKind(StrEnum):
    SOCIAL = "social"
    LEGAL = "legal"
    OFFICIAL = "official"


class Funding(StrEnum):
    """What pays for a call: the monthly allowance (PF 4.1) or an extra-call grant (PF 4.3)."""

    ALLOWANCE = "allowance"
    EXTRA_GRANT = "extra_grant"


class ExtraCallReason(StrEnum):
    """Why an extra free call was granted (PF 4.3)."""

    RESIDENT_WELLBEING = "resident_wellbeing"
    FAMILY_WELLBEING = "family_wellbeing"
    FAMILY_CANNOT_VISIT_FOR_HEALTH = "family_cannot_visit_for_health"
    OTHER_EXCEPTIONAL = "other_exceptional"
    #: Youth custody only: "as and when needed".
    AS_NEEDED = "as_needed"


class SupportNeed(StrEnum):
    """Support needs recorded for a person in custody (PF 4.5, PF 4.24)."""

    LEARNING_OR_COGNITIVE = "learning_or_cognitive"
    PHYSICAL = "physical"
    HEARING = "hearing"
    VISUAL = "visual"
    TECHNICAL = "technical"


class RiskOutcome(StrEnum):
    ALLOW = "allow"
    REFUSE = "refuse"


class HarassmentControl(StrEnum):
    """Measures that make an individual risk assessment necessary in immigration detention (DSO 14)."""

    MAPPA = "mappa"
    RESTRAINING_ORDER = "restraining_order"
    OTHER_HARASSMENT_CONTROL = "other_harassment_control"


class Rule34Ground(StrEnum):
    """The grounds in Prison Rule 34(3)(b) (YOI Rule 9) on which access may be withheld or limited (PF 4.4)."""

    NATIONAL_SECURITY = "national_security"
    CRIME = "prevention_detection_investigation_prosecution_of_crime"
    PUBLIC_SAFETY = "public_safety"
    PRISON_SECURITY_GOOD_ORDER = "prison_security_good_order_discipline"
    HEALTH_OR_MORALS = "protection_of_health_or_morals"
    REPUTATION_OF_OTHERS = "protection_of_reputation_of_others"
    JUDICIARY = "authority_and_impartiality_of_judiciary"
    RIGHTS_OF_OTHERS = "protection_of_rights_and_freedoms_of_others"


class RestrictionKind(StrEnum):
    WITHHOLD = "withhold"
    LIMIT = "limit"


class SuspensionReason(StrEnum):
    """Why a detainee's access was suspended (DSO 17)."""

    SECURITY = "security"
    SAFETY = "safety"
    ACCEPTABLE_USE_BREACH = "acceptable_use_breach"
    #: Recorded so the engine can refuse it: a suspension must not punish wider non-compliance.
    WIDER_NON_COMPLIANCE = "wider_non_compliance"


class TerminationReason(StrEnum):
    """Why supervising staff ended a call (DSO 11, DSO 12, DSO 19, DSO Annex A)."""

    DRESS = "dress"
    FOUL_OR_ABUSIVE_LANGUAGE = "foul_or_abusive_language"
    SEXUALISED_BEHAVIOUR = "sexualised_behaviour"
    RECORDING_THE_CALL = "recording_the_call"
    UNLAWFUL_ACTIVITY = "unlawful_activity"
    SECURITY_RISK = "security_risk"
    OTHER = "other"


class NonAttendanceCause(StrEnum):
    """Why a booked call did not take place (PF 4.8)."""

    CANCELLED_BY_RESIDENT = "cancelled_by_resident"
    CANCELLED_BY_CONTACT = "cancelled_by_contact"
    CANCELLED_BY_ESTABLISHMENT = "cancelled_by_establishment"
    FAILED_TO_ATTEND = "failed_to_attend"
    TECHNICAL_FAILURE = "technical_failure"


class RecordKind(StrEnum):
    """Kinds of record with a retention period (PF 4.20)."""

    RECORDING = "recording"
    CALL_LOG = "call_log"
    BOOKING = "booking"
    INCIDENT = "incident"
    VIEWING_LOG = "viewing_log"
    COMPACT = "compact"
    WELLBEING = "wellbeing"
    CONTACT_ACCOUNT = "contact_account"
