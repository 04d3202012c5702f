"""Pure validators for the values a host user contributes to Sigma claims."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

# Sigma (spec §1.2, `sub`): an RFC-1035-compliant email, no whitespace, no
# underscores. Local part: RFC 5322 atom characters minus "_"; domain: RFC 1035
# labels (letters, digits, inner hyphens) with an alphabetic top-level label.
_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^`{|}~-]+)*"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
SIGMA_EMAIL = re.compile(rf"^{_LOCAL}@(?:{_LABEL}\.)+[A-Za-z]{{2,63}}$")

MSG_EMAIL_EMPTY = "No email address is set."
MSG_EMAIL_INVALID = (
    "Sigma accepts only plain email addresses: no spaces, no underscores, and a "
    "domain made of letters, digits and hyphens."
)

# User attribute names as defined in Sigma (Administration > User attributes).
ATTRIBUTE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_ -]{0,99}$")
MSG_ATTRIBUTE_NAME = (
    "An attribute name starts with a letter and has letters, digits, spaces, '_' "
    "or '-' (up to 100), exactly as defined in Sigma."
)
MSG_ATTRIBUTE_VALUE = "An attribute value is up to 1000 characters without control characters."


def sigma_email_problem(value: str | None) -> str | None:
    """Return why ``value`` cannot be a Sigma ``sub``, or None when it can."""
    if value is None or not value.strip():
        return MSG_EMAIL_EMPTY
    if len(value) > 254 or "_" in value or not SIGMA_EMAIL.match(value):
        return MSG_EMAIL_INVALID
    return None


def validate_sigma_email(value: str) -> None:
    """Form/model validator; blank values are left to ``blank=True``."""
    if value and (problem := sigma_email_problem(value)):
        raise ValidationError(problem, code="sigma_email")


def validate_attribute_name(value: str) -> None:
    if not ATTRIBUTE_NAME.match(value or ""):
        raise ValidationError(MSG_ATTRIBUTE_NAME, code="attribute_name")


def validate_attribute_value(value: str) -> None:
    if len(value) > 1000 or any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValidationError(MSG_ATTRIBUTE_VALUE, code="attribute_value")
