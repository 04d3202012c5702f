"""embeds.conf: app-owned defaults for every SIGMA_* setting, read at call time."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from embeds.conf import DEFAULTS, PREFIX, Rate, sigma_settings
from embeds.models import Embed
from embeds.protocol import constants
from embeds.validators import parse_sigma_url

WB = "https://app.sigmacomputing.com/acme/workbook/Sales-Overview-4bq2ZtkLmV8xWn3pRs6HyA"


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_every_setting_has_a_default_when_the_site_sets_nothing(settings, name):
    if hasattr(settings, PREFIX + name):
        delattr(settings, PREFIX + name)
    assert getattr(sigma_settings, name) == DEFAULTS[name]


def test_defaults_are_working_values():
    assert DEFAULTS["ALLOWED_ORIGINS"] == ["https://app.sigmacomputing.com"]
    assert constants.MIN_TOKEN_TTL <= DEFAULTS["DEFAULT_TOKEN_TTL"] <= constants.MAX_TOKEN_TTL
    assert sigma_settings.rate("RATE_LIMIT") is not None
    assert DEFAULTS["PUBLISHED_PASSWORDS"] == {}


def test_the_app_has_no_emulator_setting():
    """The emulator is the host project's; its settings are the host's to set."""
    assert not [name for name in DEFAULTS if "EMULATOR" in name]


def test_site_value_wins_and_is_read_at_call_time(settings):
    settings.SIGMA_DEFAULT_TOKEN_TTL = 120
    assert sigma_settings.DEFAULT_TOKEN_TTL == 120
    settings.SIGMA_DEFAULT_TOKEN_TTL = 900
    assert sigma_settings.DEFAULT_TOKEN_TTL == 900


def test_new_embed_takes_the_default_lifetime_without_any_setting(settings):
    del settings.SIGMA_DEFAULT_TOKEN_TTL
    assert Embed().token_ttl == 3600


def test_allowed_origins_default_accepts_sigma_urls_without_any_setting(settings):
    del settings.SIGMA_ALLOWED_ORIGINS
    assert parse_sigma_url(WB).origin == "https://app.sigmacomputing.com"


def test_unknown_setting_is_an_attribute_error():
    with pytest.raises(AttributeError, match="SIGMA_NO_SUCH is not a setting"):
        sigma_settings.NO_SUCH  # noqa: B018


@pytest.mark.parametrize(
    ("value", "expected"), [("60/60", Rate(60, 60)), (" 5/900 ", Rate(5, 900)), ("off", None)]
)
def test_rate_settings_are_parsed(settings, value, expected):
    settings.SIGMA_RATE_LIMIT = value
    assert sigma_settings.rate("RATE_LIMIT") == expected


def test_bad_rate_names_the_setting_and_never_the_value(settings):
    settings.SIGMA_LOGIN_RATE_LIMIT = "five-ish"
    with pytest.raises(ImproperlyConfigured) as exc:
        sigma_settings.rate("LOGIN_RATE_LIMIT")
    assert "SIGMA_LOGIN_RATE_LIMIT" in str(exc.value)
    assert "five-ish" not in str(exc.value)
