"""Pieces the admin modules share: reasons, the confirmation step, users affected."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.template.response import TemplateResponse

from embeds.models import Embed
from embeds.remote import usage as remote

MSG_REASON_REQUIRED = "Say why: the reason is recorded with your name and the time."


def viewer_count(embed: Embed) -> int:
    """Active, unblocked host users who share a team with ``embed``."""
    team_ids = list(embed.teams.values_list("id", flat=True))
    if not team_ids:
        return 0
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(sigma_profile__teams__in=team_ids) | Q(groups__sigma_mapping__teams__in=team_ids))
        .exclude(sigma_profile__is_blocked=True)
        .distinct()
        .count()
    )


def reason_field(*, max_length: int, help_text: str) -> forms.CharField:
    """A required reason, as long as the column that stores it."""
    return forms.CharField(
        label="Reason",
        max_length=max_length,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=help_text,
        error_messages={"required": MSG_REASON_REQUIRED},
    )


class ReasonForm(forms.Form):
    """A required, recorded reason (revoke a credential, disable embeds)."""

    reason = reason_field(
        max_length=500,
        help_text="Recorded with your name and the time, and shown on the credential.",
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError(MSG_REASON_REQUIRED, code="reason_required")
        return reason


@dataclass(frozen=True)
class Confirmation:
    """What a confirmation page asks and what happens once it is confirmed.

    ``apply(obj, data)`` calls the service for one object and returns False when
    nothing changed; ``log(obj, data)`` is the admin history message for it;
    ``done(count, data)`` the message shown afterwards.
    """

    title: str
    intro: str
    template: str
    apply: Callable[[Any, dict], bool | None]
    log: Callable[[Any, dict], str]
    done: Callable[[int, dict], str]
    form_class: type[forms.Form] | None = None
    action: str = ""  # the changelist action to post back to ("" on an object's own page)


class ConfirmationMixin:
    """One confirmation step for revoke, re-activate, disable and switch actions.

    Like Django's ``delete_selected``: the first request shows what will change
    (``rows``, which each template lays out) and asks for a reason when the
    action needs one; the confirmed POST calls the service once per object inside
    one transaction, logs each change and reports once.
    """

    def confirm(self, request, objects: Sequence, confirmation: Confirmation, *, rows: list):
        confirmed = bool(request.POST.get("post"))
        form = None
        if confirmation.form_class is not None:
            form = confirmation.form_class(request.POST if confirmed else None)
        if confirmed and (form is None or form.is_valid()):
            data = form.cleaned_data if form is not None else {}
            changed = 0
            with transaction.atomic():
                for obj in objects:
                    if confirmation.apply(obj, data) is False:
                        continue
                    self.log_change(request, obj, confirmation.log(obj, data))
                    changed += 1
            self.message_user(request, confirmation.done(changed, data), messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": confirmation.title,
            "intro": confirmation.intro,
            "opts": self.opts,
            "rows": rows,
            "objects": objects,
            "form": form,
            "action": confirmation.action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, confirmation.template, context)


def kept_rows(formset) -> list:
    """An inline's rows as the page leaves them, unsaved: every form's object except
    the deleted ones and empty extra rows.

    Writes nothing (a service does), but fills the three lists Django's change
    message reads (``new_objects``, ``changed_objects``, ``deleted_objects``) as a
    formset's own save would, so the object's *History* still says what changed.
    Each form's object already holds its cleaned values (``ModelForm._post_clean``).
    """
    deleted = set(formset.deleted_forms)
    formset.new_objects = [
        f.instance for f in formset.extra_forms if f.has_changed() and f not in deleted
    ]
    formset.changed_objects = [
        (f.instance, f.changed_data)
        for f in formset.initial_forms
        if f.has_changed() and f not in deleted
    ]
    formset.deleted_objects = [
        f.instance for f in formset.initial_forms if f in deleted and f.instance.pk is not None
    ]
    return [
        form.instance
        for form in formset.forms
        if form not in deleted and (form.instance.pk is not None or form.has_changed())
    ]


class ServiceFormMixin:
    """Hands the acting admin to forms whose ``save()`` calls a service."""

    def save_form(self, request, form, change):
        form.actor = request.user
        return super().save_form(request, form, change)


class SigmaCheckOnSaveMixin:
    """After a save, the remote checks of what was saved, shown as warnings.

    Only with a credential that has the REST API privilege, and time-boxed
    (``remote.quick_check``): Sigma away is a notice, never a block; the change is
    saved either way. Subclasses say what to check with ``sigma_check_targets``.
    """

    def sigma_check_targets(self, obj) -> dict:
        raise NotImplementedError

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)  # type: ignore[misc]
        check = remote.quick_check(**self.sigma_check_targets(form.instance))
        if not check.checked:
            if check.notice != remote.MSG_NO_API_CREDENTIAL:
                messages.info(request, check.notice)
            return
        for finding in check.findings:
            messages.warning(request, f"Sigma: {finding.id} {finding.message} Fix: {finding.hint}")
