"""Real server processes for tests: start several on one database and cache, stop them.

Each server is a separate operating-system process (gunicorn when it is installed,
else ``manage.py runserver --noreload``) bound to loopback on a port of
``SIGMA_TEST_PORTS`` (default 18200-18299), with ``tests.settings`` and the test
database and cache of the calling test. Start-up waits in a bounded loop; every
process is stopped (terminate, then kill) whatever happens.
"""

from __future__ import annotations

import http.client
import importlib.util
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
DEFAULT_PORTS = "18200-18299"
START_ATTEMPTS = 120  # x 0.25 s
REQUEST_TIMEOUT = 30  # seconds, per request


def port_range() -> range:
    first, _, last = os.environ.get("SIGMA_TEST_PORTS", DEFAULT_PORTS).partition("-")
    return range(int(first), int(last or first) + 1)


def free_port(taken: set[int]) -> int:
    for port in port_range():
        if port in taken:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((HOST, port))
            except OSError:
                continue
        return port
    raise RuntimeError("No free port in SIGMA_TEST_PORTS for a test server.")


def database_url() -> str:
    """The test database as a DATABASE_URL, for processes outside pytest."""
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return (
        f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )


@dataclass
class Response:
    status: int
    body: str
    headers: dict[str, str]
    cookies: dict[str, str] = field(default_factory=dict)


@dataclass
class Server:
    port: int
    process: subprocess.Popen
    log: Path

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def request(
        self,
        method: str,
        path: str,
        *,
        cookies: dict[str, str] | None = None,
        form: dict[str, str] | None = None,
    ) -> Response:
        """One request on a fresh connection; redirects are returned, not followed."""
        headers = {"Host": f"{HOST}:{self.port}"}
        if cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection(HOST, self.port, timeout=REQUEST_TIMEOUT)
        try:
            conn.request(method, path, body=body, headers=headers)
            raw = conn.getresponse()
            text = raw.read().decode("utf-8", "replace")
            jar = SimpleCookie()
            for value in raw.headers.get_all("Set-Cookie") or []:
                jar.load(value)
            return Response(
                status=raw.status,
                body=text,
                headers={k.lower(): v for k, v in raw.getheaders()},
                cookies={name: morsel.value for name, morsel in jar.items()},
            )
        finally:
            conn.close()


def server_command(port: int) -> list[str]:
    if importlib.util.find_spec("gunicorn") is not None:
        return [
            sys.executable,
            "-m",
            "gunicorn",
            "hostsite.wsgi:application",
            "--bind",
            f"{HOST}:{port}",
            "--workers",
            "2",
            "--threads",
            "4",
        ]
    return [sys.executable, "manage.py", "runserver", "--noreload", f"{HOST}:{port}"]


def server_environment(extra: dict[str, str]) -> dict[str, str]:
    environment = dict(os.environ)
    environment.update(
        {
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "HOSTSITE_READ_DOTENV": "0",
            "DATABASE_URL": database_url(),
            "CACHE_URL": os.environ.get("CACHE_URL", ""),
            "PYTHONUNBUFFERED": "1",
        }
    )
    environment.update(extra)
    return environment


def _wait_until_ready(server: Server) -> None:
    for _ in range(START_ATTEMPTS):
        if server.process.poll() is not None:
            raise RuntimeError(
                f"Test server on port {server.port} exited with {server.process.returncode}: "
                f"{server.log.read_text()[-2000:]}"
            )
        try:
            if server.request("GET", "/accounts/login/").status == 200:
                return
        except OSError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"Test server on port {server.port} did not answer in time.")


def stop(server: Server) -> None:
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=10)


@contextmanager
def running_servers(count: int, *, log_dir: Path, env: dict[str, str]) -> Iterator[list[Server]]:
    """``count`` server processes on the test database and cache, stopped on exit."""
    servers: list[Server] = []
    try:
        for index in range(count):
            port = free_port({s.port for s in servers})
            log = log_dir / f"server-{index}.log"
            with log.open("w") as out:
                process = subprocess.Popen(  # noqa: S603 - fixed argv, our own interpreter
                    server_command(port),
                    cwd=ROOT,
                    env=server_environment(env),
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            servers.append(Server(port=port, process=process, log=log))
        for server in servers:
            _wait_until_ready(server)
        yield servers
    finally:
        for server in servers:
            stop(server)


def session_cookie(client) -> dict[str, str]:
    """The session cookie of a test client that signed in with ``force_login``."""
    name = settings.SESSION_COOKIE_NAME
    return {name: client.cookies[name].value}


CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
