"""Writes to the trails: security events (inside each switch's transaction), error reports."""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any

from django.utils import timezone

from embeds.models import (
    AccessRecord,
    Credential,
    Embed,
    EmbedErrorReport,
    SecurityEvent,
)
from embeds.observability.redaction import redact_untrusted

logger = logging.getLogger(__name__)

# --- Security events and switches -------------------------------------------------
#
# One function per switch (embeds on/off, which credential signs an embed, a user's
# kill switch), used by the admin forms and actions, the commands and the config
# import. Each writes its row and its ``SecurityEvent`` in one transaction.


def _actor_name(actor) -> str:
    if getattr(actor, "pk", None):
        return actor.get_username()
    return ""


def _target(kind: str, *, credential=None, embed=None, subject=None, group=None) -> str:
    """The event's target as named now (the row may be renamed or deleted later)."""
    if kind.startswith("user_") and subject is not None:
        return subject.get_username()
    if kind.startswith("group_") and group is not None:
        return group.name
    if kind.startswith("embed_") and embed is not None:
        return f"{embed.title} ({embed.slug})"
    if credential is not None:
        return str(credential)  # name and client ID, never the secret
    return ""


def record_security_event(
    kind: str,
    *,
    actor=None,
    credential: Credential | None = None,
    embed: Embed | None = None,
    subject=None,
    group=None,
    reason: str = "",
    detail: str = "",
    target: str = "",
    now: datetime | None = None,
) -> SecurityEvent:
    """Append one event to the security trail (call inside the switch's transaction).

    ``target`` names what was switched when it is none of the host's rows (a Sigma
    member); otherwise it is derived from them.
    """
    return SecurityEvent.objects.create(
        created_at=now or timezone.now(),
        kind=kind,
        target=(
            target
            or _target(kind, credential=credential, embed=embed, subject=subject, group=group)
        )[:300],
        credential=credential,
        embed=embed,
        subject=subject if getattr(subject, "pk", None) else None,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_name=_actor_name(actor),
        reason=reason,
        detail=detail[:300],
    )


def describe_changes(before: dict[str, Any], after: dict[str, Any]) -> str:
    """``name: old -> new`` for each value that differs, for an event's ``detail``.

    Values are names and settings (teams, account types, attribute values), never a
    secret; sets are shown as what was added (+) and removed (-). A missing value,
    ``None``, ``""`` and ``False`` are all "nothing", so a new mapping lists only what
    it sets.
    """
    parts = []
    for name in {**before, **after}:
        old, new = before.get(name), after.get(name)
        if isinstance(old, frozenset | set) or isinstance(new, frozenset | set):
            old_set, new_set = set(old or ()), set(new or ())
            if old_set == new_set:
                continue
            added = ", ".join(sorted(str(v) for v in new_set - old_set))
            removed = ", ".join(sorted(str(v) for v in old_set - new_set))
            parts.append(
                f"{name}: "
                + " ".join(p for p in (added and f"+{added}", removed and f"-{removed}") if p)
            )
        elif (old or "") != (new or ""):
            parts.append(f"{name}: {_shown(old)} -> {_shown(new)}")
    return "; ".join(parts)


def _shown(value: Any) -> str:
    return "(none)" if value in (None, "") else str(value)


# --- Errors reported from inside the iframe ---------------------------------------

_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]+")


def _clean_report_text(value: str, limit: int | None) -> str:
    # A report is browser input; it must never carry a token, even one without
    # the usual "eyJ" prefix.
    text = redact_untrusted(value)
    return _CONTROL_CHARS.sub(" ", text).strip()[:limit]


def record_embed_error(*, user, embed: Embed, code: str, message: str = "") -> EmbedErrorReport:
    """Store a ``workbook:error`` the browser reported for ``embed``.

    ``code`` and ``message`` come from a cross-origin frame via the browser: every
    signed token in them is replaced, control characters become spaces, and both
    are cut to their column lengths. Refuses (``ValueError``) an empty code.
    """
    code_limit = EmbedErrorReport._meta.get_field("code").max_length
    message_limit = EmbedErrorReport._meta.get_field("message").max_length
    clean_code = _clean_report_text(code, code_limit)
    if not clean_code:
        raise ValueError("An error report needs a code.")
    report = EmbedErrorReport.objects.create(
        embed=embed,
        embed_slug=embed.slug,
        user=user,
        username=user.get_username(),
        code=clean_code,
        message=_clean_report_text(message, message_limit),
    )
    logger.info(
        "Sigma embed error reported id=%s embed=%s user=%s code=%r",
        report.pk,
        embed.slug,
        user.pk,
        clean_code[:40],
    )
    return report


def note_preview_outcome(*, record: AccessRecord, outcome: str, code: str = "") -> None:
    """Note on a preview's access record what Sigma answered in the previewer's browser.

    The browser reported it, so it is a note and decides nothing; ``outcome`` is one
    of ``AccessRecord.SigmaOutcome``, ``code`` Sigma's error code (kept for errors).
    """
    record.sigma_outcome = AccessRecord.SigmaOutcome(outcome)
    record.sigma_code = code if outcome == AccessRecord.SigmaOutcome.ERROR else ""
    AccessRecord.objects.filter(pk=record.pk).update(
        sigma_outcome=record.sigma_outcome, sigma_code=record.sigma_code
    )
    logger.info(
        "Preview outcome noted jti=%s outcome=%s code=%r", record.jti, outcome, record.sigma_code
    )
