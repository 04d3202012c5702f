"""Request ids: honoured when well-formed, made otherwise, on every log line."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest

from hostsite.logconfig import build_logging
from hostsite.requestid import (
    REQUEST_ID_HEADER,
    RequestIdFilter,
    accept_request_id,
    request_id_var,
)

FRESH_ID = re.compile(r"^[0-9a-f]{32}$")


@pytest.mark.parametrize(
    "incoming",
    ["4bf92f3577b34da6a3ce929d0e0e4736", "req-2026.11.25_abc", "a" * 128],
)
def test_accept_request_id_keeps_a_well_formed_id(incoming):
    assert accept_request_id(incoming) == incoming


@pytest.mark.parametrize(
    "incoming",
    [
        None,
        "",
        "short",  # under 8 characters
        "a" * 129,
        "id with spaces",
        "abcdefgh\nforged log line",
        '"quoted"-id-1234',
        "-leading-dash-123",
        "abcdefgh\n",
    ],
)
def test_accept_request_id_replaces_anything_else(incoming):
    assert FRESH_ID.match(accept_request_id(incoming))


@pytest.mark.django_db
def test_response_echoes_the_incoming_request_id_from_a_trusted_proxy(client, settings):
    settings.TRUSTED_PROXIES = ["127.0.0.0/8"]  # the test client's REMOTE_ADDR
    response = client.get("/accounts/login/", HTTP_X_REQUEST_ID="lb-0123456789abcdef")
    assert response[REQUEST_ID_HEADER] == "lb-0123456789abcdef"


@pytest.mark.django_db
def test_response_gets_a_fresh_id_for_a_malformed_one(client):
    response = client.get("/accounts/login/", HTTP_X_REQUEST_ID="bad id\r\nX: y")
    assert FRESH_ID.match(response[REQUEST_ID_HEADER])


@pytest.mark.django_db
def test_log_lines_written_during_a_request_carry_its_id(
    client, alice, bob, embed_factory, apply_logging, settings
):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]  # the test client's REMOTE_ADDR
    embed_factory(slug="sales")
    stream = io.StringIO()
    config = build_logging(fmt="json")
    config["handlers"]["console"]["stream"] = stream
    apply_logging(config)
    client.force_login(alice)
    response = client.get("/embeds/sales/", HTTP_X_REQUEST_ID="trace-0000000000000001")
    assert response.status_code == 200
    client.force_login(bob)
    response = client.get("/embeds/sales/", HTTP_X_REQUEST_ID="trace-0000000000000002")
    assert response.status_code == 403
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [
        (r["logger"], r["request_id"], r["message"].split(" ")[0])
        for r in records
        if r["logger"] in {"embeds.issuing.issue", "embeds.issuing.audit", "django.request"}
    ] == [
        ("embeds.issuing.issue", "trace-0000000000000001", "Issued"),
        ("embeds.issuing.audit", "trace-0000000000000002", "Refused"),
        # Django logs the 403 after the middleware returned: still the same id.
        ("django.request", "trace-0000000000000002", "Forbidden:"),
    ]
    assert request_id_var.get() == "-"  # forgotten once the request finished


def test_request_id_filter_stamps_the_current_id():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    token = request_id_var.set("trace-0000000000000002")
    try:
        RequestIdFilter().filter(record)
    finally:
        request_id_var.reset(token)
    assert record.request_id == "trace-0000000000000002"
