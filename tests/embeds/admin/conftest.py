"""Admin test helpers: staff users with exact permissions, and form data from a page."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.forms import ModelMultipleChoiceField, MultiWidget


@pytest.fixture
def staff_factory(db):
    """A staff user holding exactly the given 'app_label.codename' permissions."""

    def make(username: str, *perms: str):
        user = get_user_model().objects.create_user(
            username, f"{username}@example.com", "demo", is_staff=True
        )
        for perm in perms:
            app_label, codename = perm.split(".")
            user.user_permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        return user

    return make


def _value(bound_field):
    value = bound_field.value()
    if value is None:
        return [] if isinstance(bound_field.field, ModelMultipleChoiceField) else ""
    if isinstance(value, bool):
        return "on" if value else ""
    if isinstance(value, list | tuple):
        return [getattr(v, "pk", v) for v in value]
    return getattr(value, "pk", value)


def _form_fields(form, data: dict) -> None:
    for name in form.fields:
        bound = form[name]
        widget = bound.field.widget
        if isinstance(widget, MultiWidget):  # e.g. date_joined: date_0 and time_1
            parts = widget.decompress(bound.value())
            for index, (sub, part) in enumerate(zip(widget.widgets, parts, strict=True)):
                data[f"{bound.html_name}_{index}"] = sub.format_value(part) or ""
            continue
        value = _value(bound)
        if value == "" and bound.field.widget.__class__.__name__ == "CheckboxInput":
            continue  # an unchecked box is absent from a browser's POST
        data[bound.html_name] = value


def change_form_data(response) -> dict:
    """The POST data a browser would send for an admin change page, unchanged."""
    data: dict = {}
    _form_fields(response.context["adminform"].form, data)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        _form_fields(formset.management_form, data)
        for form in formset.forms:
            _form_fields(form, data)
    return {k: v for k, v in data.items() if v is not None}
