"""The Sigma email rule (spec §1.2 `sub`) and attribute names/values."""

import pytest
from django.core.exceptions import ValidationError

from accounts import validators


@pytest.mark.spec("1.2")
@pytest.mark.parametrize(
    "email",
    ["alice@example.com", "a.b+c@sub.example.co", "x@a-b.io", "O'Brien@example.ie"],
)
def test_plain_emails_are_accepted(email):
    assert validators.sigma_email_problem(email) is None


@pytest.mark.spec("1.2")
@pytest.mark.parametrize(
    ("email", "problem"),
    [
        ("", validators.MSG_EMAIL_EMPTY),
        ("   ", validators.MSG_EMAIL_EMPTY),
        (None, validators.MSG_EMAIL_EMPTY),
        ("first_last@example.com", validators.MSG_EMAIL_INVALID),
        ("alice@my_host.example.com", validators.MSG_EMAIL_INVALID),
        ("alice @example.com", validators.MSG_EMAIL_INVALID),
        ("alice@example.com ", validators.MSG_EMAIL_INVALID),
        ("alice@-example.com", validators.MSG_EMAIL_INVALID),
        ("alice@example", validators.MSG_EMAIL_INVALID),
        ("alice@example.c0m", validators.MSG_EMAIL_INVALID),
        ("alice", validators.MSG_EMAIL_INVALID),
        ("a..b@example.com", validators.MSG_EMAIL_INVALID),
        ("alice@exa\nmple.com", validators.MSG_EMAIL_INVALID),
    ],
)
def test_emails_sigma_rejects_are_refused_with_the_reason(email, problem):
    assert validators.sigma_email_problem(email) == problem


def test_validate_sigma_email_raises_with_a_code():
    with pytest.raises(ValidationError) as caught:
        validators.validate_sigma_email("first_last@example.com")
    assert caught.value.code == "sigma_email"


@pytest.mark.parametrize("name", ["region", "Region Name", "cost_center-2"])
def test_attribute_names_accepted(name):
    validators.validate_attribute_name(name)


@pytest.mark.parametrize("name", ["", "1region", "region!", "x" * 101, " region"])
def test_attribute_names_refused(name):
    with pytest.raises(ValidationError):
        validators.validate_attribute_name(name)


def test_attribute_values_refuse_control_characters():
    validators.validate_attribute_value("West, Southwest")
    with pytest.raises(ValidationError):
        validators.validate_attribute_value("West\x00")
