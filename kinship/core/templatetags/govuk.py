"""GOV.UK Design System markup for Django forms: ``{% govuk_error_summary form %}`` and ``{% govuk_field field %}``.

Each field is rendered as the matching GOV.UK component (text input, textarea, select, radios, checkboxes, file
upload, date input), with its hint and error message linked through ``aria-describedby``.
"""

from __future__ import annotations

from typing import Any

from django import forms, template
from django.forms.boundfield import BoundField
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

register = template.Library()

_TEMPLATES: list[tuple[type[forms.Widget], str]] = [
    # CheckboxSelectMultiple is a subclass of RadioSelect in Django, so it must come first.
    (forms.CheckboxSelectMultiple, "govuk/fields/checkboxes.html"),
    (forms.RadioSelect, "govuk/fields/radios.html"),
    (forms.CheckboxInput, "govuk/fields/checkbox.html"),
    (forms.Select, "govuk/fields/select.html"),
    (forms.Textarea, "govuk/fields/textarea.html"),
    (forms.ClearableFileInput, "govuk/fields/file.html"),
    (forms.FileInput, "govuk/fields/file.html"),
    (forms.MultiWidget, "govuk/fields/date.html"),
    (forms.HiddenInput, "govuk/fields/hidden.html"),
]

_INPUT_TYPES = {"email": "email", "password": "password", "number": "text", "tel": "tel", "url": "url"}


def _template_for(widget: forms.Widget) -> str:
    for widget_class, name in _TEMPLATES:
        if isinstance(widget, widget_class):
            return name
    return "govuk/fields/input.html"


@register.simple_tag
def govuk_field(field: BoundField, **options: Any) -> SafeString:
    """Render one bound field. Options: ``label_class`` (e.g. "govuk-label--m"), ``width`` (e.g. "20"),
    ``autocomplete``, ``heading`` (render the label as the page heading)."""
    widget = field.field.widget
    input_type = getattr(widget, "input_type", "text") or "text"
    base_id = field.auto_id
    describedby = []
    if field.help_text:
        describedby.append(f"{base_id}-hint")
    if field.errors:
        describedby.append(f"{base_id}-error")
    value = field.value()
    context = {
        "field": field,
        "id": base_id,
        "name": field.html_name,
        "value": "" if value is None or input_type == "password" else value,
        "input_type": _INPUT_TYPES.get(input_type, "text"),
        "inputmode": "numeric" if input_type == "number" else "",
        "describedby": " ".join(describedby),
        "required": field.field.required,
        "options": options,
        "autocomplete": options.get("autocomplete") or field.field.widget.attrs.get("autocomplete", ""),
    }
    if isinstance(widget, forms.MultiWidget):
        parts: list[Any] = (
            list(value) if isinstance(value, (list, tuple)) else list(widget.decompress(value) or [])
        )
        parts += [None] * (3 - len(parts))
        context["date_parts"] = [
            (f"{field.html_name}_{suffix}", f"{base_id}_{suffix}", label, parts[index] or "", width)
            for index, (suffix, label, width) in enumerate(
                [("day", "Day", "2"), ("month", "Month", "2"), ("year", "Year", "4")]
            )
        ]
    return SafeString(render_to_string(_template_for(widget), context))


@register.inclusion_tag("govuk/error_summary.html")
def govuk_error_summary(*forms_: forms.BaseForm) -> dict[str, Any]:
    """The error summary at the top of the page: every error, linked to its field, non-field errors first."""
    items: list[tuple[str, str]] = []
    for form in forms_:
        if form is None or not form.is_bound:
            continue
        items.extend(("", str(error)) for error in form.non_field_errors())
        for field in form:
            # GOV.UK links an error to the first input of its field: the day box of a date.
            suffix = "_day" if isinstance(field.field.widget, forms.MultiWidget) else ""
            items.extend((f"#{field.auto_id}{suffix}", str(error)) for error in field.errors)
    return {"items": items}
