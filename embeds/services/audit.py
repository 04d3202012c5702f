"""Writes to the trails: security events (inside each switch's transaction), error reports."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, TypedDict, TypeVar, Unpack

from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from embeds.issuing import snapshots
from embeds.issuing.audit import user_row
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

    from embeds.issuing.audit import AnyUser

    # Who switched something: an admin's request.user, a command's --actor, or
    # nobody (None; the anonymous user and an unsaved user count as nobody).
    Actor = AnyUser | None

logger = logging.getLogger(__name__)

_RowT = TypeVar("_RowT", bound=Model)

# --- Security events and switches -------------------------------------------------
#
# One function per switch (embeds on/off, which credential signs an embed, a user's
# kill switch), used by the admin forms and actions, the commands and the config
# import. Each writes its row and its ``SecurityEvent`` in one transaction.


def _actor_name(actor: Actor) -> str:
    user = user_row(actor)
    return user.get_username() if user is not None else ""


class EventFields(TypedDict, total=False):
    """What an event says besides its kind and actor, each part optional.

    The host rows it is about (``credential``, ``embed``, ``subject``, ``group``);
    ``target``, naming what was switched when it is none of the host's rows (a
    Sigma member), else derived from the rows; ``reason`` and ``detail``; ``now``,
    the time to record (default: now).
    """

    credential: Credential | None
    embed: Embed | None
    subject: User | None
    group: Group | None
    target: str
    reason: str
    detail: str
    now: datetime | None


def _target(kind: str, event: EventFields) -> str:
    """The event's target as named now (the row may be renamed or deleted later)."""
    subject, group, embed = event.get("subject"), event.get("group"), event.get("embed")
    credential = event.get("credential")
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
    kind: str, *, actor: Actor = None, **event: Unpack[EventFields]
) -> SecurityEvent:
    """Append one event to the security trail (call inside the switch's transaction)."""
    subject = event.get("subject")
    return SecurityEvent.objects.create(
        created_at=event.get("now") or timezone.now(),
        kind=kind,
        target=(event.get("target") or _target(kind, event))[:300],
        credential=event.get("credential"),
        embed=event.get("embed"),
        subject=subject if subject is not None and subject.pk else None,
        actor=user_row(actor),
        actor_name=_actor_name(actor),
        reason=event.get("reason", ""),
        detail=event.get("detail", "")[:300],
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
    **event: Unpack[EventFields],
) -> None:
    """Set ``state`` on ``locked`` (a row the caller's transaction locked), save just
    those fields, record ``kind`` (``event``) and invalidate the issuing-path cache.

    The row, its event and the cache's generation move in the caller's
    transaction, so a rolled-back switch leaves no event behind.
    """
    for name, value in state.items():
        setattr(locked, name, value)
    # update_fields skips auto_now unless named: a stamped row says when it changed.
    stamp = ["updated_at"] if isinstance(locked, Stamped) else []
    locked.save(update_fields=[*state, *stamp])
    record_security_event(kind, actor=actor, **event)
    snapshots.invalidate()


def log_change(log: logging.Logger, done: str, what: str, name: str, actor: Actor) -> None:
    """The warning an audited change leaves in ``log``: ``done``, the row (``what``
    and its ``name``) and the id of the user who did it, never a value."""
    log.warning("%s Sigma %s %s by user=%s", done, what, name, getattr(actor, "pk", None))


def delete_rows(
    rows: Iterable[_RowT],
    *,
    actor: Actor,
    log: logging.Logger,
    named: Callable[[_RowT], tuple[str, str]],
) -> None:
    """Delete ``rows`` in one transaction, each logged (``named``: what it is, its
    name) with who deleted it, then invalidate the issuing-path cache."""
    with transaction.atomic():
        for row in rows:
            log_change(log, "Deleted", *named(row), actor)
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
