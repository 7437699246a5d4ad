"""The English text of every message the engine can give, keyed by message id.

Reasons carry a message id and parameters; this catalogue turns them into plain English for the person who
reads them (a family member, a person in custody, a member of staff, a governor). A translation supplies the
same ids with the same ``{placeholders}``. Keep sentences short, say what happens next where there is
something to do, and never blame the reader.
"""

from __future__ import annotations

from collections.abc import Mapping

MESSAGES: Mapping[str, str] = {
    # Access
    "access.not_social": "Only social video calls can be booked here; {kind} calls are arranged another way.",
    "access.individual_risk_assessment": (
        "Video calls can start once an individual risk assessment has been completed and allows them."
    ),
    "compact.missing": "Video calls can start once the compact has been explained, read and signed.",
    "compact.incomplete": "The compact must be explained, read and signed before video calls can start.",
    "compact.language": "The compact must be read and explained in a language the person understands.",
    "compact.refused": "Video calls are not available because the compact has not been signed.",
    "eligibility.missing": "Video calls can start once the eligibility risk assessment has been recorded.",
    "eligibility.refused": "Video calls are not available following the eligibility risk assessment.",
    "terms.not_accepted": "{name} needs to accept the current terms and conditions (version {version}) first.",
    # Restrictions and suspensions
    "restriction.withheld": (
        "Video calls are not available at the moment. This will be reviewed by {review_on:%d %B %Y}."
    ),
    "restriction.participants": "At the moment no more than {limit} people can join a call from outside.",
    "restriction.minutes": "At the moment calls can last no more than {limit} minutes.",
    "restriction.calls": "At the moment no more than {limit} calls a month can be booked.",
    "restriction.dedicated_monitor": (
        "This person's calls must be watched by an officer who is watching no other call."
    ),
    "restriction.governor_only": "Only a governor can restrict access to video calls.",
    "restriction.rationale": "Record why the restriction is necessary and proportionate.",
    "restriction.review_date": "The review date cannot be before the restriction starts.",
    "restriction.end": "The restriction must end after it starts.",
    "restriction.limit_missing": (
        "Say what is limited: the number of people on a call, the length of calls, the number of calls a month "
        "or that a dedicated officer must watch them."
    ),
    "suspension.active": "Video calls are suspended. Calls with legal advisers can still go ahead.",
    "suspension.legal_access_kept": "Video calls are suspended, but calls with legal advisers can go ahead.",
    "suspension.not_manager": "Only the centre manager or deputy centre manager can suspend video calls.",
    "suspension.sanction": (
        "A suspension must be for security, safety or a breach of the video call rules, not a sanction for "
        "something else."
    ),
    "suspension.authorisation": "A suspension longer than 7 days needs the compliance manager's authorisation.",
    # Participants
    "participants.not_approved": "{name} is not on the approved contacts or visitors list.",
    "participants.banned_visitor": (
        "{name} is a banned visitor. A call needs the authorisation of the manager responsible for video calls."
    ),
    "participants.banned_contact": "Video calls with {name} are not allowed at the moment.",
    "participants.too_many": "At most {limit} people can join a call from outside.",
    "participants.child_main_caller": (
        "{name} is under 18 and can join only with an adult who is the main caller."
    ),
    "participants.child_not_approved": "{name} is not on the list of children approved to join these calls.",
    # Allowance and extra calls
    "allowance.call_too_long": "Calls paid for by the monthly allowance can last up to {limit} minutes.",
    "allowance.no_calls_left": "This month's free calls have been used ({calls} a month).",
    "allowance.not_enough_minutes": "There are {minutes_left} minutes of free calls left this month.",
    "allowance.minutes_left": "After this call there will be {minutes_left} minutes of free calls left this month.",
    "extra_call.capacity": (
        "An extra call cannot be granted: the {slots_left} slots left this month are needed so that all "
        "{residents_without_call} people still waiting can have their call."
    ),
    "extra_call.governor_only": "Only a governor can grant an extra call.",
    "extra_call.reason_needed": "Choose the wellbeing or exceptional reason for the extra call.",
    "extra_call.explain": "Explain the exceptional reason for the extra call.",
    "extra_call.none_available": "There is no extra call granted to use for this booking.",
    # Booking
    "booking.requester_resident_only": "At this establishment calls are requested by the person in custody.",
    "booking.requester_contact_only": "At this establishment calls are requested by family and friends.",
    "booking.slot_started": "This time has already started. Choose a later time.",
    "booking.short_notice": "Calls must be booked at least {hours} hours ahead so that family can arrange to join.",
    "booking.slot_length_not_offered": "Calls of {minutes} minutes are not offered here.",
    "booking.irc_slot_length": "Calls last between 30 and 60 minutes, not {minutes}.",
    "booking.room_not_accessible": "Choose a time in an accessible room.",
    "booking.support_missing": "The support needed ({needs}) is not available at this time. Choose another time.",
    "staffing.no_supervisor": "No supervising officer is on duty at this time. Choose another time.",
    "staffing.no_monitor": "No monitoring officer is free at this time. Choose another time.",
    "staffing.e_list": "This call needs a monitoring officer of its own and none is free. Choose another time.",
    "legal.priority": "Calls with legal advisers are booked first.",
    "cancellation.short_notice": (
        "This cancellation gives less than {hours} hours' notice. Tell the family at once and offer another time."
    ),
    "review.new_booking": "Link the new booking to close the review as rebooked.",
    "review.reason": "Say why the call was not rebooked.",
    # Running calls
    "call.adult_check": "Check that the main person on the call is an adult before it starts.",
    "call.no_monitor": "The call cannot go on without an active monitoring terminal.",
    "call.e_list_shared_monitor": "This call must be watched by a monitoring officer who is not watching others.",
    "call.monitor_overloaded": "A monitoring officer can watch at most {limit} calls at once.",
    "call.recording_detected": "The call has ended because it was being recorded.",
    "monitoring.terminal_not_registered": "The monitoring view can only be opened on a registered terminal.",
    "monitoring.not_authorised": "You are not authorised to use the monitoring view.",
    "monitoring.purpose": "Say why you are viewing this call.",
    "legal.no_monitoring": "Calls with legal advisers are private and cannot be monitored.",
    "recording.none_in_irc": "Calls here are never recorded, so there is nothing to view.",
    "recording.expired": "This recording is past its retention period and cannot be opened.",
    "termination.not_supervising": "Only supervising staff can end a call.",
    "termination.details": "Record what happened and your concerns for the incident report.",
    # Wellbeing
    "wellbeing.observation": "Describe what you noticed about how the call affected the person.",
    "wellbeing.outcome": "Record the outcome of the follow-up.",
    "wellbeing.acct": "Record whether an ACCT was opened.",
    # Establishments, schedules, settings
    "establishment.holding_room": "Video calls cannot be set up in a non-residential holding room.",
    "schedule.short_day": "{day} has {hours} hours {minutes} minutes of video calls. Every day needs at least 7 hours.",
    "schedule.no_evenings": "No calls are offered after {evening_from}. Offer evening calls where you can.",
    "schedule.no_weekends": "No calls are offered at weekends. Offer weekend calls where you can.",
    "hotline.notice": "Worried about someone's safety or wellbeing? Call the safer custody hotline on {hotline}.",
    "settings.allowance_pattern": "Choose one call of up to 60 minutes or two calls of up to 30 minutes a month.",
    "settings.prison_slot_lengths": "Every slot length must be between 1 and {limit} minutes.",
    "settings.irc_slot_lengths": "Every slot length must be between 30 and 60 minutes.",
    "settings.no_allowance_in_irc": "Immigration detention has no monthly allowance. Leave the pattern empty.",
    "settings.participants": "Choose between 1 and {maximum} people who can join a call from outside.",
    "settings.notice_hours": "Notice cannot be negative.",
    "settings.calls_per_officer": "A monitoring officer must be able to watch at least 1 call.",
    "settings.hotline": "Enter the safer custody hotline number.",
    "settings.retention": "Set how many days {kind} records are kept (at least 1).",
    "settings.no_recordings_in_irc": "Calls in immigration detention are never recorded, so keep no recordings.",
    # Records
    "retention.held": "This record is held for an investigation and cannot be deleted.",
    "retention.not_expired": "This record is kept until {expires_on:%d %B %Y}.",
}


def render(code: str, params: Mapping[str, object]) -> str:
    """The English text for ``code`` with ``params`` filled in. An unknown id or a missing parameter is a bug."""
    return MESSAGES[code].format_map(params)
