"""manage.py sigma_prune_audit: shows what would go, deletes only with --yes."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from embeds.models import AccessRecord, EmbedErrorReport
from tests.conftest import CANARY_SECRET


def make_record(days_ago: int, jti: str) -> AccessRecord:
    return AccessRecord.objects.create(
        created_at=timezone.now() - timedelta(days=days_ago),
        outcome=AccessRecord.Outcome.ISSUED,
        source=AccessRecord.Source.PAGE,
        username="alice",
        jti=jti,
    )


def make_report(days_ago: int) -> EmbedErrorReport:
    report = EmbedErrorReport.objects.create(code="timeout", username="alice")
    EmbedErrorReport.objects.filter(pk=report.pk).update(
        created_at=timezone.now() - timedelta(days=days_ago)
    )
    return report


def run(*args) -> str:
    out = StringIO()
    call_command("sigma_prune_audit", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.mark.django_db
def test_prune_without_yes_deletes_nothing_and_says_how_many(settings):
    settings.SIGMA_AUDIT_RETENTION_DAYS = 30
    make_record(40, "old"), make_record(5, "new"), make_report(40)
    output = run()
    assert output.startswith("Would delete 1 access record(s) and 1 error report(s) older than ")
    assert output.rstrip().endswith("(30 days). Run again with --yes to delete them.")
    assert AccessRecord.objects.count() == 2
    assert EmbedErrorReport.objects.count() == 1


@pytest.mark.django_db
def test_prune_with_yes_deletes_only_rows_past_retention(settings, caplog):
    settings.SIGMA_AUDIT_RETENTION_DAYS = 30
    make_record(40, "old"), make_record(29, "new"), make_report(40), make_report(1)
    output = run("--yes")
    assert output.startswith("Deleted 1 access record(s) and 1 error report(s) older than ")
    assert list(AccessRecord.objects.values_list("jti", flat=True)) == ["new"]
    assert EmbedErrorReport.objects.count() == 1
    assert CANARY_SECRET not in output + caplog.text


@pytest.mark.django_db
def test_prune_days_option_overrides_setting(settings):
    settings.SIGMA_AUDIT_RETENTION_DAYS = 365
    make_record(10, "a")
    # Below the retention setting: needs --force since issue #10.
    assert run("--days", "7", "--yes", "--force").startswith("Deleted 1 access record(s)")
    assert AccessRecord.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "setting", "message"),
    [
        (("--days", "0"), 30, "--days must be a whole number of days, at least 1."),
        (("--days", "-3", "--yes"), 30, "--days must be a whole number of days, at least 1."),
        ((), 0, "SIGMA_AUDIT_RETENTION_DAYS must be a whole number of days, at least 1."),
    ],
)
def test_prune_refuses_bad_retention_with_returncode_2(settings, args, setting, message):
    settings.SIGMA_AUDIT_RETENTION_DAYS = setting
    make_record(400, "old")
    with pytest.raises(CommandError) as caught:
        run(*args)
    assert str(caught.value) == message
    assert caught.value.returncode == 2
    assert AccessRecord.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("args", [("--days", "7", "--yes"), ("--days", "7")])
def test_prune_below_retention_needs_force_and_deletes_nothing(settings, args):
    settings.SIGMA_AUDIT_RETENTION_DAYS = 30
    make_record(10, "recent")
    with pytest.raises(CommandError) as caught:
        run(*args)
    assert str(caught.value) == (
        "--days 7 is below SIGMA_AUDIT_RETENTION_DAYS (30): it would delete records the "
        "retention setting keeps. Add --force to do it anyway."
    )
    assert caught.value.returncode == 2
    assert AccessRecord.objects.count() == 1


@pytest.mark.django_db
def test_prune_days_at_or_above_retention_needs_no_force(settings):
    settings.SIGMA_AUDIT_RETENTION_DAYS = 30
    make_record(40, "old")
    assert run("--days", "30", "--yes").startswith("Deleted 1 access record(s)")
