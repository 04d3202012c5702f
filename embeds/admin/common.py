"""Pieces the admin modules share: typed bases, reasons, the confirmation step, users
affected, the admin's own pages."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypedDict, TypeVar, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model, Q
from django.forms.models import BaseInlineFormSet as DjangoBaseInlineFormSet
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.template.response import TemplateResponse
from django.urls import URLPattern, path

from embeds.models import Credential, Embed, Team
from embeds.remote import usage as remote

_ModelT = TypeVar("_ModelT", bound=Model)
_ParentT = TypeVar("_ParentT", bound=Model)

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin, StackedInline, TabularInline
    from django.contrib.admin.options import InlineModelAdmin

    # The configured AUTH_USER_MODEL, as django-stubs resolves it (tests.settings).
    from django.contrib.auth.models import AnonymousUser, User
    from django.forms import ModelForm
    from django.forms.models import BaseInlineFormSet
    from django.utils.functional import _StrPromise

    # What a mixin uses of the ModelAdmin (or inline) it is mixed into.
    AdminMixin = ModelAdmin
    InlineMixin = InlineModelAdmin
else:

    class _ByModel:
        """django-stubs types these Django classes by model (``ModelAdmin[Embed]``);
        Django's own take no subscript at run time, so here the subscript gives back
        Django's class itself: what runs is exactly what the untyped code ran."""

        def __init__(self, django_class):
            self._django_class = django_class

        def __getitem__(self, _model):
            return self._django_class

    ModelAdmin = _ByModel(admin.ModelAdmin)
    StackedInline = _ByModel(admin.StackedInline)
    TabularInline = _ByModel(admin.TabularInline)
    ModelForm = _ByModel(forms.ModelForm)
    BaseInlineFormSet = _ByModel(DjangoBaseInlineFormSet)

    class _MixinOf:
        """``AdminMixin[_ModelT]`` is a generic mixin; ``AdminMixin[Group]`` a plain one."""

        def __getitem__(self, models):
            models = models if isinstance(models, tuple) else (models,)
            return Generic[models] if all(isinstance(m, TypeVar) for m in models) else object

    AdminMixin = _MixinOf()
    InlineMixin = _MixinOf()

MSG_REASON_REQUIRED = "Say why: the reason is recorded with your name and the time."

# What a confirmed form hands the service: its cleaned_data (each field its own type).
FormData = dict[str, Any]


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


def staff_user(request: HttpRequest) -> User:
    """``request.user`` on an admin page: ``admin_view`` lets only signed-in staff in,
    so it is never the anonymous user here; the cast only tells the type checker so."""
    return cast("User", request.user)


def reason_field(*, max_length: int, help_text: str) -> forms.CharField:
    """A required reason, as long as the column that stores it."""
    return forms.CharField(
        label="Reason",
        max_length=max_length,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=help_text,
        error_messages={"required": MSG_REASON_REQUIRED},
    )


def require_reason(form: forms.BaseForm, *, switched_off: bool, field: str, message: str) -> None:
    """A kill switch turned off needs its reason: the error goes next to ``field``."""
    if switched_off and not (form.cleaned_data.get(field) or "").strip():
        form.add_error(field, ValidationError(message, code="reason_required"))


class ReasonForm(forms.Form):
    """A required, recorded reason (revoke a credential, disable embeds)."""

    reason = reason_field(
        max_length=500,
        help_text="Recorded with your name and the time, and shown on the credential.",
    )

    def clean_reason(self) -> str:
        reason: str = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError(MSG_REASON_REQUIRED, code="reason_required")
        return reason


def admin_pages(
    model_admin: ModelAdmin[_ModelT], *pages: tuple[str, Callable[..., HttpResponseBase], str]
) -> list[URLPattern]:
    """An admin's pages of its own, ``(route, view, name)`` each, behind ``admin_view``
    (signed-in staff only, CSRF, never cached), to go before Django's own URLs."""
    wrap = model_admin.admin_site.admin_view
    return [path(route, wrap(view), name=name) for route, view, name in pages]


class ChangeContextMixin(AdminMixin[_ModelT]):
    """Adds what ``change_context`` returns to the change page's template context
    (which object tools the admin may use)."""

    def change_context(self, request: HttpRequest) -> dict[str, object]:
        return {}

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        extra_context = {**(extra_context or {}), **self.change_context(request)}
        return super().change_view(request, object_id, form_url, extra_context)


def counted(message: _StrPromise) -> Callable[[int, FormData], str]:
    """A confirmation's ``done`` saying how many changed: ``message`` is
    ``ngettext_lazy(singular, plural, "count")``, whose form follows the count."""
    return lambda count, data: str(message % {"count": count})


@dataclass(frozen=True)
class Confirmation(Generic[_ModelT]):
    """What a confirmation page asks and what happens once it is confirmed.

    ``apply(obj, data)`` calls the service for one object and returns False when
    nothing changed; ``log(obj, data)`` is the admin history message for it;
    ``done(count, data)`` the message shown afterwards.
    """

    title: str
    intro: str
    template: str
    apply: Callable[[_ModelT, FormData], bool | None]
    log: Callable[[_ModelT, FormData], str]
    done: Callable[[int, FormData], str]
    form_class: type[forms.Form] | None = None
    action: str = ""  # the changelist action to post back to ("" on an object's own page)


class ConfirmationMixin(AdminMixin[_ModelT]):
    """One confirmation step for revoke, re-activate, disable and switch actions.

    Like Django's ``delete_selected``: the first request shows what will change
    (``rows``, which each template lays out) and asks for a reason when the
    action needs one; the confirmed POST calls the service once per object inside
    one transaction, logs each change and reports once.
    """

    def confirm(
        self,
        request: HttpRequest,
        objects: Sequence[_ModelT],
        confirmation: Confirmation[_ModelT],
        *,
        rows: Sequence[object],
    ) -> TemplateResponse | None:
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


def kept_rows(
    formset: BaseInlineFormSet[_ModelT, _ParentT, ModelForm[_ModelT]],
) -> list[_ModelT]:
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


class ServiceModelForm(ModelForm[_ModelT], Generic[_ModelT]):
    """A model form whose ``save()`` calls a service, naming the acting admin."""

    actor: User | AnonymousUser | None = None  # set by ServiceFormMixin.save_form


class ServiceFormMixin(AdminMixin[_ModelT]):
    """Hands the acting admin to forms whose ``save()`` calls a service."""

    def save_form(
        self, request: HttpRequest, form: ServiceModelForm[_ModelT], change: bool
    ) -> _ModelT:
        form.actor = request.user
        saved: _ModelT = super().save_form(request, form, change)
        return saved


class CheckTargets(TypedDict, total=False):
    """What ``remote.quick_check`` is asked about after a save."""

    embeds: Sequence[Embed]
    credentials: Sequence[Credential]
    users: Sequence[User]
    teams: Sequence[Team]


class SigmaCheckOnSaveMixin(AdminMixin[_ModelT]):
    """After a save, the remote checks of what was saved, shown as warnings.

    Only with a credential that has the REST API privilege, and time-boxed
    (``remote.quick_check``): Sigma away is a notice, never a block; the change is
    saved either way. Subclasses say what to check with ``sigma_check_targets``.
    """

    def sigma_check_targets(self, obj: _ModelT) -> CheckTargets:
        raise NotImplementedError

    def save_related(
        self,
        request: HttpRequest,
        form: forms.ModelForm[_ModelT],
        formsets: Sequence[BaseInlineFormSet[Any, _ModelT, Any]],
        change: bool,
    ) -> None:
        super().save_related(request, form, formsets, change)
        check = remote.quick_check(**self.sigma_check_targets(form.instance))
        if not check.checked:
            if check.notice != remote.MSG_NO_API_CREDENTIAL:
                messages.info(request, check.notice)
            return
        for finding in check.findings:
            messages.warning(request, f"Sigma: {finding.id} {finding.message} Fix: {finding.hint}")
