"""Form helpers shared by every app: GOV.UK date input, and errors that carry a policy citation."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


class GovukDateWidget(forms.MultiWidget):
    """The GOV.UK date input: day, month and year boxes."""

    template_name = "govuk/widgets/date.html"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        widgets: dict[str, forms.Widget | type[forms.Widget]] = {
            "day": forms.TextInput(attrs={"inputmode": "numeric", "class": "govuk-input--width-2"}),
            "month": forms.TextInput(attrs={"inputmode": "numeric", "class": "govuk-input--width-2"}),
            "year": forms.TextInput(attrs={"inputmode": "numeric", "class": "govuk-input--width-4"}),
        }
        super().__init__(widgets, attrs)

    def decompress(self, value: Any) -> list[Any]:
        if isinstance(value, date):
            return [value.day, value.month, value.year]
        return [None, None, None]


class GovukDateField(forms.MultiValueField):
    widget = GovukDateWidget
    default_error_messages = {
        "invalid": _("Enter a real date"),
        "incomplete": _("Enter a full date, with a day, month and year"),
    }

    def __init__(self, **kwargs: Any) -> None:
        fields = (
            forms.IntegerField(min_value=1, max_value=31),
            forms.IntegerField(min_value=1, max_value=12),
            forms.IntegerField(min_value=1900, max_value=2200),
        )
        kwargs.setdefault("require_all_fields", True)
        super().__init__(fields, **kwargs)

    def clean(self, value: Any) -> Any:
        # The Design System says "Enter a real date", not Django's number-field messages
        # ("Ensure this value is less than or equal to 12").
        try:
            return super().clean(value)
        except ValidationError as error:
            codes = {getattr(item, "code", None) for item in error.error_list}
            if codes & {"min_value", "max_value", "invalid"}:
                raise ValidationError(self.error_messages["invalid"], code="invalid") from error
            raise

    def compress(self, data_list: list[Any]) -> date | None:
        if not data_list:
            return None
        try:
            day, month, year = (int(part) for part in data_list)
            return date(year, month, day)
        except (TypeError, ValueError) as error:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from error
