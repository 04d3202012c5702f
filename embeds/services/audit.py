"""Writes to the trails: security events (inside each switch's transaction), error reports."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, TypedDict, TypeVar, Unpack

from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from embeds.issuing import snapshots
from embeds.models import (
    AccessRecord,
    Credential,
    Embed,
    EmbedErrorReport,
    SecurityEvent,
)
from embeds.models.common import Stamped
from embeds.observability.redaction import redact_untrusted

if TYPE_CHECKING:
    # The configured AUTH_USER_MODEL, as django-stubs resolves it (tests.settings).
    from django.contrib.auth.models import Group, User

    # Who switched something: an admin's request.user, a command's --actor, or
    # nobody (None; the anonymous user and an unsaved user count as nobody).
    Actor = User | AnonymousUser | None

logger = logging.getLogger(__name__)

_RowT = TypeVar("_RowT", bound=Model)

# --- Security events and switches -------------------------------------------------
#
# One function per switch (embeds on/off, which credential signs an embed, a user's
# kill switch), used by the admin forms and actions, the commands and the config
# import. Each writes its row and its ``SecurityEvent`` in one transaction.


def actor_user(actor: Actor) -> User | None:
    """The user row to name as the one who acted, or None for nobody."""
    if actor is None or isinstance(actor, AnonymousUser) or not actor.pk:
        return None
    return actor


def _actor_name(actor: Actor) -> str:
    user = actor_user(actor)
    return user.get_username() if user is not None else ""


class EventRows(TypedDict, total=False):
    """The host rows an event is about, each optional."""

    credential: Credential | None
    embed: Embed | None
    subject: User | None
    group: Group | None


def _target(kind: str, rows: EventRows) -> str:
    """The event's target as named now (the row may be renamed or deleted later)."""
    subject, group, embed = rows.get("subject"), rows.get("group"), rows.get("embed")
    credential = rows.get("credential")
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
    actor: Actor = None,
    reason: str = "",
    detail: str = "",
    target: str = "",
    now: datetime | None = None,
    **rows: Unpack[EventRows],
) -> SecurityEvent:
    """Append one event to the security trail (call inside the switch's transaction).

    ``target`` names what was switched when it is none of the host's rows (a Sigma
    member); otherwise it is derived from them.
    """
    subject = rows.get("subject")
    return SecurityEvent.objects.create(
        created_at=now or timezone.now(),
        kind=kind,
        target=(target or _target(kind, rows))[:300],
        credential=rows.get("credential"),
        embed=rows.get("embed"),
        subject=subject if subject is not None and subject.pk else None,
        actor=actor_user(actor),
        actor_name=_actor_name(actor),
        reason=reason,
        detail=detail[:300],
    )


def required_reason(reason: str, *, to: str) -> str:
    """``reason`` without surrounding blanks; ``ValueError`` when nothing is left.

    Switching something off (revoke, disable, block) must say why: the reason is
    kept on the row and in the trail for whoever switches it back on.
    """
    if not reason or not reason.strip():
        raise ValueError(f"A reason is required to {to}.")
    return reason.strip()


def apply_switch(
    locked: Model,
    kind: str,
    *,
    state: Mapping[str, object],
    actor: Actor,
    reason: str,
    now: datetime | None = None,
    **rows: Unpack[EventRows],
) -> None:
    """Set ``state`` on ``locked`` (a row the caller's transaction locked), save just
    those fields, record ``kind`` about ``rows`` and invalidate the issuing-path cache.

    The row, its event and the cache's generation move in the caller's
    transaction, so a rolled-back switch leaves no event behind.
    """
    for name, value in state.items():
        setattr(locked, name, value)
    # update_fields skips auto_now unless named: a stamped row says when it changed.
    stamp = ["updated_at"] if isinstance(locked, Stamped) else []
    locked.save(update_fields=[*state, *stamp])
    record_security_event(kind, actor=actor, reason=reason, now=now, **rows)
    snapshots.invalidate()


def delete_rows(
    rows: Iterable[_RowT], *, actor: Actor, log: logging.Logger, label: Callable[[_RowT], str]
) -> None:
    """Delete ``rows`` in one transaction, each with a warning on ``log`` naming it
    (``label``) and who deleted it, then invalidate the issuing-path cache."""
    with transaction.atomic():
        for row in rows:
            log.warning("Deleted Sigma %s by user=%s", label(row), getattr(actor, "pk", None))
            row.delete()
        snapshots.invalidate()


def describe_changes(before: Mapping[str, object], after: Mapping[str, object]) -> str:
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
            old_set, new_set = _as_set(old), _as_set(new)
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


def _as_set(value: object) -> set[object]:
    # A set on one side and nothing (None) on the other: a new or removed mapping.
    return set(value) if isinstance(value, frozenset | set) else set()


def _shown(value: object) -> str:
    return "(none)" if value in (None, "") else str(value)


# --- Errors reported from inside the iframe ---------------------------------------

_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]+")


def _clean_report_text(value: str, limit: int | None) -> str:
    # A report is browser input; it must never carry a token, even one without
    # the usual "eyJ" prefix.
    text = redact_untrusted(value)
    return _CONTROL_CHARS.sub(" ", text).strip()[:limit]


def record_embed_error(
    *, user: User, embed: Embed, code: str, message: str = ""
) -> EmbedErrorReport:
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
