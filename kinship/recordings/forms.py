"""The playback form: nobody opens a recording without saying why (PF 1.3, PF 4.23)."""

from __future__ import annotations

from django import forms

from .errors import RecordingRefused


class PlaybackForm(forms.Form):
    reason = forms.CharField(
        label="Why are you opening this recording?",
        help_text="For example the incident or intelligence report it is for. This is logged with your name (PF 4.23).",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
        error_messages={"required": "PF 4.23: Say why you are opening this recording"},
    )


def add_refusal(form: forms.Form, refusal: RecordingRefused) -> None:
    """Each reason on its field where the form has it, otherwise at the top, with its citation."""
    for problem in refusal.problems:
        form.add_error(problem.field if problem.field in form.fields else None, problem.message)
