"""The admin's embed sandbox: preview an embed as another user, without switching login.

The preview signs through ``issuing.issue_embed_url`` with ``source=PREVIEW`` and
the admin as ``actor``, so every host rule applies (teams, kill switches, the
credential-owner rule) and the token is recorded as a preview. The admin's own
session is never touched.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, JsonResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_POST

from embeds import issuing, services
from embeds.admin.common import staff_user
from embeds.exceptions import Refusal
from embeds.http import allow_sigma_frames, client_ip
from embeds.issuing.identity import SigmaIdentity, identity_for
from embeds.models import AccessRecord, Embed
from embeds.remote import usage as remote

if TYPE_CHECKING:
    # The configured AUTH_USER_MODEL, as django-stubs resolves it (tests.settings).
    from django.contrib.auth.models import AnonymousUser, User

PREVIEW_PERMISSION = "embeds.preview_embed"


def previewable_users(previewer: User | AnonymousUser) -> QuerySet[User]:
    """The users ``previewer`` may choose to preview as.

    Superusers: anyone. Everyone else: active users who are neither staff nor
    superusers. A preview signs a real token that the previewer's browser holds, so
    a staff user with only ``preview_embed`` must not be able to act as another
    staff user or a superuser (whose Sigma identity is usually an organization
    member); ``auth.view_user`` is not enough either, since seeing a user is not
    being allowed to act as them. Whoever is chosen, a preview of an existing Sigma
    member is refused when signing (``embeds.issuing.access.check_previewable``).
    """
    users = get_user_model().objects.order_by("username")
    if previewer.is_superuser:
        return users
    return users.filter(is_active=True, is_staff=False, is_superuser=False)


class PreviewForm(forms.Form):
    """Which user and which embed to preview; nothing here changes who is logged in."""

    user = forms.ModelChoiceField(
        queryset=get_user_model().objects.none(),
        label="Sign in as",
        help_text=(
            "The token is signed for this user, with their own Sigma mapping. Sigma "
            "members (internal users, the credential owner) cannot be previewed."
        ),
    )
    embed = forms.ModelChoiceField(queryset=Embed.objects.order_by("title"), label="Embed")

    def __init__(self, *args: Any, previewer: User | AnonymousUser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Security: the choice is limited on the server, so a posted pk outside the
        # list is "not one of the available choices", never a signed token.
        user_field = cast("forms.ModelChoiceField[User]", self.fields["user"])
        user_field.queryset = previewable_users(previewer)


def _initial(request: HttpRequest) -> dict[str, int]:
    initial = {}
    for name in ("user", "embed"):
        value = request.GET.get(name, "")
        if value.isdigit():
            initial[name] = int(value)
    return initial


def _identity_or_none(user: User) -> SigmaIdentity | None:
    """The Sigma identity, to show what a refused user would be sent; None if refused."""
    try:
        return identity_for(user)
    except Refusal:
        return None


@sensitive_variables("signed")
def sign_preview(request: HttpRequest, user: User, embed: Embed) -> dict[str, object]:
    """Sign ``embed`` for ``user`` as the admin's preview; what the page shows of it.

    A refusal is shown with the identity the user would have been sent (if any),
    so the admin sees which rule stopped it.
    """
    embed = Embed.objects.select_related("credential").get(pk=embed.pk)
    try:
        signed = issuing.issue_embed_url(
            user=user,
            embed=embed,
            source=AccessRecord.Source.PREVIEW,
            actor=request.user,
            client_ip=client_ip(request),
        )
    except Refusal as refusal:
        return {
            "allowed": False,
            "refusal": refusal,
            "identity": _identity_or_none(user),
            "user": user,
            "embed": embed,
        }
    return {
        "allowed": True,
        "user": user,
        "embed": embed,
        "signed": signed,
        "header_json": json.dumps(signed.header, indent=2, sort_keys=True),
        "claims_json": json.dumps(signed.claims, indent=2, sort_keys=True),
        "redacted_url": signed.redacted_url,
        # The one origin the page's script accepts Sigma's messages from.
        "sigma_origin": embed.content.origin,
    }


@sensitive_variables("signed", "result", "response")
@never_cache  # the page holds a single-use signed URL
def preview(request: HttpRequest) -> TemplateResponse:
    # Security: signing as someone else is its own permission, not implied by
    # staff status or by being able to edit embeds.
    if not request.user.has_perm(PREVIEW_PERMISSION):
        raise PermissionDenied
    form = PreviewForm(
        request.POST if request.method == "POST" else None,
        initial=_initial(request),
        previewer=request.user,
    )
    result = None
    if form.is_valid():
        result = sign_preview(request, form.cleaned_data["user"], form.cleaned_data["embed"])
    context = {
        **admin.site.each_context(request),
        "title": "Preview an embed as a user",
        "opts": Embed._meta,
        "form": form,
        "result": result,
    }
    request.current_app = admin.site.name
    response = TemplateResponse(request, "admin/embeds/embed/preview.html", context)
    if result is not None and result["allowed"]:
        # The page now holds a signed URL: frame Sigma (only here among admin pages),
        # never store it, never send a Referer. Under "no-referrer" browsers post
        # forms with "Origin: null", which CSRF refuses, so the template turns this
        # page's form into a GET that pre-fills the next preview and its log-out
        # into a link.
        allow_sigma_frames(response)
    return response


# --- What Sigma said in the previewer's browser -----------------------------------

# Sigma's error codes look like EINVAL, EPERM, ENOENT (spec §8); nothing else is kept.
SIGMA_CODE = re.compile(r"\AE[A-Z]{2,15}\Z")
# A preview's token outlives its page by little; older records are not amended.
OUTCOME_WINDOW = timedelta(hours=2)
# The host finding that explains each refusal Sigma gives a preview, by check id;
# "missing team" and "not shared" first, as the issue that asked for this named them.
EXPLAINING_FINDINGS = (
    "embeds.R001",  # a team Sigma does not have
    "embeds.R005",  # content none of the embed's teams can reach
    "embeds.R002",  # an account type Sigma does not have
    "embeds.R003",  # a user attribute Sigma does not have
    "embeds.R004",  # content Sigma does not have
    "embeds.R006",
    "embeds.R007",
    "embeds.R008",
    "embeds.R009",
)


class OutcomeForm(forms.Form):
    """What the previewer's browser reports: which preview, and Sigma's answer.

    Trusted for nothing but the record's note: the record must be this previewer's
    own preview, the outcome one of a fixed set, the code Sigma-shaped.
    """

    jti = forms.CharField(max_length=64)
    # Empty: only check against Sigma (the page's button), note nothing.
    outcome = forms.ChoiceField(choices=AccessRecord.SigmaOutcome.choices, required=False)
    code = forms.CharField(max_length=20, required=False)

    def clean_code(self) -> str:
        code: str = self.cleaned_data["code"]
        if code and not SIGMA_CODE.match(code):
            raise forms.ValidationError("Not a Sigma error code.", code="code")
        return code


def _findings_json(check: remote.QuickCheck) -> dict[str, object]:
    order = {finding_id: rank for rank, finding_id in enumerate(EXPLAINING_FINDINGS)}
    findings = sorted(check.findings, key=lambda f: (order.get(f.id, len(order)), f.id))
    return {
        "checked": check.checked,
        "notice": check.notice,
        "findings": [finding.as_dict() for finding in findings],
    }


def _preview_check(record: AccessRecord) -> remote.QuickCheck:
    """The remote checks of the previewed embed and user (time-boxed)."""
    embed = (
        Embed.objects.select_related("credential").filter(pk=record.embed_id).first()
        if record.embed_id is not None
        else None
    )
    if embed is None or record.user is None:
        return remote.QuickCheck(notice="The embed or the user of this preview is gone.")
    return remote.quick_check(embeds=[embed], credentials=[embed.credential], users=[record.user])


def _own_preview(request: HttpRequest, jti: str) -> AccessRecord | None:
    # Security: only the previewer's own, recent preview; a jti from elsewhere (or
    # someone else's) changes nothing and learns nothing.
    return (
        AccessRecord.objects.select_related("user")
        .filter(
            jti=jti,
            source=AccessRecord.Source.PREVIEW,
            outcome=AccessRecord.Outcome.ISSUED,
            actor=staff_user(request),
            created_at__gte=timezone.now() - OUTCOME_WINDOW,
        )
        .first()
    )


@require_POST
@never_cache
def preview_outcome(request: HttpRequest) -> JsonResponse:
    """Note on the preview's access record what Sigma answered in the browser.

    Without an outcome (the *Check against Sigma* button), or when Sigma did not
    open the content, also runs the remote checks of the previewed embed and user
    (time-boxed) and returns the findings, those that explain a refusal first (a
    missing team is R001, content not shared R005).
    """
    if not request.user.has_perm(PREVIEW_PERMISSION):
        raise PermissionDenied
    form = OutcomeForm(request.POST)
    if not form.is_valid():
        return JsonResponse({"error": "invalid"}, status=HTTPStatus.BAD_REQUEST)
    record = _own_preview(request, form.cleaned_data["jti"])
    if record is None:
        return JsonResponse({"error": "not_found"}, status=HTTPStatus.NOT_FOUND)
    outcome = form.cleaned_data["outcome"]
    if outcome:
        services.note_preview_outcome(
            record=record, outcome=outcome, code=form.cleaned_data["code"]
        )
    answer: dict[str, object] = {"recorded": record.get_sigma_outcome_display()}
    if not outcome or outcome != AccessRecord.SigmaOutcome.LOADED:
        answer |= _findings_json(_preview_check(record))
    return JsonResponse(answer)
