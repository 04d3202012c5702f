"""SigmaProfile: one Sigma identity per active mapped host user."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from embeds.models import SigmaProfile
from embeds.models.mappings import MSG_EMAIL_TAKEN

pytestmark = pytest.mark.django_db


def clean_errors(user) -> list[str]:
    try:
        SigmaProfile.objects.get(user=user).full_clean()
    except ValidationError as exc:
        return exc.message_dict["sigma_email"]
    return []


def test_a_sigma_email_another_active_user_has_is_refused_whatever_its_case(user_factory):
    user_factory("bob", sigma_email="shared@example.com")
    carol = user_factory("carol", sigma_email="Shared@Example.com")
    assert clean_errors(carol) == [
        MSG_EMAIL_TAKEN % {"email": "Shared@Example.com", "users": "bob"}
    ]


def test_an_inherited_email_counts_as_the_identity(alice, user_factory):
    # alice has no Sigma email of her own: she is signed in as alice@example.com.
    carol = user_factory("carol", sigma_email="alice@example.com")
    twin = user_factory("twin", email="ALICE@example.com")
    assert clean_errors(carol) == [
        MSG_EMAIL_TAKEN % {"email": "alice@example.com", "users": "alice, twin"}
    ]
    assert clean_errors(twin) == [
        MSG_EMAIL_TAKEN % {"email": "ALICE@example.com", "users": "alice, carol"}
    ]


def test_inactive_and_unmapped_users_do_not_count(alice, user_factory, django_user_model):
    gone = user_factory("gone", sigma_email="x@example.com")
    gone.is_active = False
    gone.save()
    django_user_model.objects.create_user("plain", email="x@example.com")
    assert clean_errors(user_factory("carol", sigma_email="x@example.com")) == []
    assert clean_errors(alice) == []


def test_a_deactivated_user_may_keep_a_shared_email(user_factory):
    user_factory("bob", sigma_email="shared@example.com")
    carol = user_factory("carol", sigma_email="shared@example.com")
    carol.is_active = False
    carol.save()
    assert clean_errors(carol) == []
