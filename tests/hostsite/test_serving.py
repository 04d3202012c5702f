"""The production server: preflight refusals, and gunicorn really serving."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.db.migrations.recorder import MigrationRecorder

from hostsite import serving
from tests.security.test_settings_env import GOOD_FERNET, GOOD_SECRET_KEY

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")
METRICS = "m" * 40


@pytest.mark.django_db
def test_preflight_passes_a_production_configuration(settings):
    settings.DEBUG = False
    assert serving.preflight(workers=1) == []


@pytest.mark.django_db
def test_preflight_refuses_debug(settings):
    settings.DEBUG = True
    assert serving.preflight(workers=1) == [serving.MSG_DEBUG]


@pytest.mark.django_db
def test_preflight_refuses_unapplied_migrations_naming_them():
    latest = MigrationRecorder.Migration.objects.filter(app="embeds").order_by("-id")[:1].get()
    latest.delete()
    assert serving.preflight(workers=1) == [
        serving.MSG_MIGRATIONS % {"count": 1, "names": f"embeds.{latest.name}"}
    ]


def test_preflight_refuses_an_unreachable_database(unreachable_database):
    assert serving.preflight(workers=1) == [serving.MSG_DATABASE % {"error": "OperationalError"}]


@pytest.mark.django_db
def test_preflight_refuses_several_workers_on_a_per_process_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert serving.preflight(workers=3) == [serving.MSG_LOCAL_CACHE % {"workers": 3}]
    assert serving.preflight(workers=1) == []


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOSTSITE_READ_DOTENV": "0",
        "SECRET_KEY": GOOD_SECRET_KEY,
        "FIELD_ENCRYPTION_KEY": GOOD_FERNET,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        "WEB_CONCURRENCY": "1",
        **extra,
    }


def test_gunicorn_refuses_to_start_with_unapplied_migrations(tmp_path):
    result = subprocess.run(  # noqa: S603
        [str(GUNICORN), "--config", "hostsite/gunicorn.conf.py", "hostsite.wsgi"],
        cwd=ROOT,
        env=_server_env(tmp_path, PORT=str(_free_port())),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "Not starting." in result.stderr
    assert "migration(s) are not applied" in result.stderr
    assert "Run `python manage.py migrate`, then start the server again." in result.stderr
    assert GOOD_SECRET_KEY not in result.stderr + result.stdout


def test_gunicorn_serves_probes_after_migrate(tmp_path):
    port = _free_port()
    env = _server_env(
        tmp_path,
        PORT=str(port),
        LOG_FORMAT="json",
        ACCESS_LOG="true",
        METRICS_TOKEN=METRICS,
        # This test's client stands in for the reverse proxy, whose X-Request-ID is kept.
        TRUSTED_PROXIES="127.0.0.1",
    )
    subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    log = tmp_path / "server.log"
    with log.open("w") as stderr:
        server = subprocess.Popen(  # noqa: S603
            [str(GUNICORN), "--config", "hostsite/gunicorn.conf.py", "hostsite.wsgi"],
            cwd=ROOT,
            env=env,
            stderr=stderr,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:  # noqa: S310
                    assert response.status == 200
                    break
            except OSError:
                time.sleep(0.1)  # not listening yet
        request = urllib.request.Request(  # noqa: S310
            f"{base}/readyz", headers={"X-Request-ID": "probe-000000000001"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            assert response.status == 200
            assert response.headers["X-Request-ID"] == "probe-000000000001"
            assert b'"status": "ok"' in response.read()
        # /metrics in gunicorn's multiprocess mode (PROMETHEUS_MULTIPROC_DIR).
        request = urllib.request.Request(  # noqa: S310
            f"{base}/metrics", headers={"Authorization": f"Bearer {METRICS}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/plain")
    finally:
        server.terminate()
        server.wait(timeout=30)
    text = log.read_text()
    assert '"logger": "gunicorn.error"' in text  # the server's own lines are JSON too
    assert "Booting worker" in text
    assert "GET /readyz HTTP/1.1" in text  # ACCESS_LOG=true
