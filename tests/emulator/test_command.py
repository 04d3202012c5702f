"""manage.py sigma_emulator: refuses unless enabled; serves the emulator handler."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.management import call_command
from django.core.management.base import CommandError

from sigma_emulator.handler import EmulatorHandler
from sigma_emulator.management.commands import sigma_emulator as command


@pytest.fixture
def served(monkeypatch) -> list[tuple]:
    calls: list[tuple] = []
    monkeypatch.setattr(
        command, "run", lambda addr, port, app, **kwargs: calls.append((addr, port, app, kwargs))
    )
    return calls


def test_command_refuses_when_disabled(settings, served):
    settings.SIGMA_EMULATOR_ENABLED = False

    with pytest.raises(CommandError) as excinfo:
        call_command("sigma_emulator", stdout=StringIO(), stderr=StringIO())

    assert str(excinfo.value) == command.MSG_DISABLED
    assert "SIGMA_EMULATOR_ENABLED" in str(excinfo.value)
    assert excinfo.value.returncode == 1
    assert served == []


def test_command_serves_the_emulator_handler_on_8001_by_default(settings, served):
    settings.SIGMA_EMULATOR_ENABLED = True
    settings.SIGMA_EMULATOR_ORIGIN = "http://127.0.0.1:8001"
    stdout, stderr = StringIO(), StringIO()

    call_command("sigma_emulator", stdout=stdout, stderr=stderr)

    [(addr, port, app, kwargs)] = served
    assert (addr, port, kwargs) == ("127.0.0.1", 8001, {"threading": True})
    assert isinstance(app, StaticFilesHandler)
    assert isinstance(app.application, EmulatorHandler)
    assert stdout.getvalue() == "Sigma emulator at http://127.0.0.1:8001/ (Ctrl-C to quit)\n"
    assert stderr.getvalue() == ""


def test_command_warns_when_the_port_differs_from_the_configured_origin(settings, served):
    settings.SIGMA_EMULATOR_ENABLED = True
    settings.SIGMA_EMULATOR_ORIGIN = "http://127.0.0.1:8001"
    stderr = StringIO()

    call_command("sigma_emulator", "localhost:9001", stdout=StringIO(), stderr=stderr)

    assert served[0][:2] == ("localhost", 9001)
    assert "SIGMA_EMULATOR_ORIGIN is http://127.0.0.1:8001" in stderr.getvalue()


@pytest.mark.parametrize("addrport", ["abc", "127.0.0.1:", "70000", "host:0", ":8001"])
def test_command_refuses_a_bad_address(settings, served, addrport):
    settings.SIGMA_EMULATOR_ENABLED = True

    with pytest.raises(CommandError) as excinfo:
        call_command("sigma_emulator", addrport, stdout=StringIO(), stderr=StringIO())

    assert excinfo.value.returncode == 2
    assert "is not a port or address:port" in str(excinfo.value)
    assert served == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ("127.0.0.1", 8001)),
        ("8002", ("127.0.0.1", 8002)),
        ("localhost:8003", ("localhost", 8003)),
    ],
)
def test_parse_addrport_defaults_to_loopback(value, expected):
    assert command.parse_addrport(value) == expected
