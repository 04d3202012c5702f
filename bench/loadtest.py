"""Load benchmark: the production server under wrk, every case against a bare page.

    make loadtest                   # or: .venv/bin/python -m bench.loadtest [--duration 5]

Starts the production server (gunicorn, ``hostsite/gunicorn.conf.py``, DEBUG off) on
PostgreSQL and Redis, in a database and a cache of its own (``LOADTEST_DATABASE_URL``,
default ``postgres://postgres@127.0.0.1:5432/sigma_loadtest``, dropped and created
afresh; ``LOADTEST_CACHE_URL``, default ``redis://127.0.0.1:6379/15``, flushed). It
seeds the demo, signs in alice, and drives with wrk, interleaved (the order rotates
each repeat), at each concurrency:

  bare      GET /bench/bare/: signed in, the embed page's template, no signing
  embed     GET /embeds/sales-overview/: the embed page, a URL signed per request
  refresh   POST /embeds/sales-overview/url/: the page script's JSON endpoint

  peer-embed, peer-refresh   the same two on the peer (``bench/peer``): an Express
            server with sessions in Redis that signs the same token for the same
            user and answers a page of the same weight (installed here with npm ci)

and prints req/s, p50 and p99 (medians over the repeats), each case's req/s as a
ratio to the bare page's and to the peer's in the same repeat, and the CPU each
request cost the server's processes and its PostgreSQL backends. Then tokens/s on
the refresh endpoint with one credential against four embeds on four credentials.
Rate limits are raised for the run (SIGMA_RATE_LIMIT), so they do not cut it short.
Nothing is asserted: a response other than 200 stops the run, since it would mean a
refusal was measured.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import platform
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from html import unescape
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import psycopg
import redis
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/sigma_loadtest"
DEFAULT_CACHE_URL = "redis://127.0.0.1:6379/15"
USERNAME, PASSWORD = "alice", "demo"  # seed_demo's documented demo login
EMBED_SLUG = "sales-overview"
EXTRA_CREDENTIALS = 4  # for "tokens/s with several credentials"
CASES = ("bare", "embed", "refresh")
PEER_CASES = ("peer-embed", "peer-refresh")
# Each case's counterpart on the peer, for the "÷ peer" column.
PEER_OF = {"bare": "peer-embed", "embed": "peer-embed", "refresh": "peer-refresh"}
PEER_DIR = ROOT / "bench" / "peer"


@dataclass(frozen=True)
class Sample:
    """One wrk run."""

    case: str
    concurrency: int
    repeat: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    unexpected: int  # responses other than 200
    socket_errors: int
    cpu_ms: float | None = None  # the server's processes, per request
    db_cpu_ms: float | None = None  # its PostgreSQL backends, per request


# --- wrk: command, script and output ---------------------------------------------

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
_LATENCY = re.compile(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m)\s*$", re.MULTILINE)
_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_TOTAL = re.compile(r"^\s*(\d+) requests in ", re.MULTILINE)
_UNEXPECTED = re.compile(r"^Unexpected statuses: (\d+)", re.MULTILINE)
_SOCKET = re.compile(
    r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", re.MULTILINE
)


def parse_wrk(output: str, *, case: str, concurrency: int, repeat: int) -> Sample:
    """Read req/s, p50, p99 and the error counts from ``wrk --latency`` output."""
    rps = _RPS.search(output)
    total = _TOTAL.search(output)
    latencies = {
        pct: float(value) * _UNITS_MS[unit] for pct, value, unit in _LATENCY.findall(output)
    }
    unexpected = _UNEXPECTED.search(output)
    if rps is None or total is None or set(latencies) != {"50", "99"} or unexpected is None:
        raise ValueError("wrk output has no Requests/sec, latency distribution or status count")
    sockets = _SOCKET.search(output)
    return Sample(
        case=case,
        concurrency=concurrency,
        repeat=repeat,
        requests_per_second=float(rps.group(1)),
        p50_ms=latencies["50"],
        p99_ms=latencies["99"],
        requests=int(total.group(1)),
        unexpected=int(unexpected.group(1)),
        socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
    )


def _lua_string(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_./:=;%\- {}\"]*", value) or "]]" in value:
        raise ValueError("unexpected characters for a wrk script")
    return f"[[{value}]]"


def wrk_script(*, method: str, paths: list[str], headers: dict[str, str], body: str = "") -> str:
    """A wrk Lua script: ``method`` on ``paths`` in turn, with ``headers``."""
    lines = [f"wrk.method = {_lua_string(method)}"]
    if body:
        lines.append(f"wrk.body = {_lua_string(body)}")
    for name, value in headers.items():
        # The spaces matter: "[[[" would open a long string.
        lines.append(f"wrk.headers[ {_lua_string(name)} ] = {_lua_string(value)}")
    lines.append("local paths = {" + ", ".join(_lua_string(p) for p in paths) + "}")
    return "\n".join(lines) + "\n" + _WRK_ROTATE_AND_COUNT


# wrk counts a 3xx (a redirect to the login page) as a success: every status but
# 200 is counted here and reported at the end as "Unexpected statuses: N".
_WRK_ROTATE_AND_COUNT = """\
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format(nil, paths[i])
end
local threads = {}
setup = function(thread)
  table.insert(threads, thread)
end
init = function(args)
  unexpected = 0
end
response = function(status, headers, body)
  if status ~= 200 then
    unexpected = unexpected + 1
  end
end
done = function(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("unexpected")
  end
  io.write(string.format("Unexpected statuses: %d\\n", total))
end
"""


def wrk_command(*, url: str, concurrency: int, duration: float, script: Path) -> list[str]:
    # One wrk thread: it multiplexes every connection with epoll, and leaves the
    # second core to the server, PostgreSQL and Redis.
    return [
        "wrk",
        "--threads",
        "1",
        "--connections",
        str(concurrency),
        "--duration",
        f"{duration:g}s",
        "--timeout",
        "10s",
        "--latency",
        "--script",
        str(script),
        url,
    ]


# --- Results -----------------------------------------------------------------------


def summarize(samples: list[Sample], baseline: str = "bare") -> list[dict]:
    """Per (case, concurrency): median req/s, p50, p99, CPU per request, and the
    medians over repeats of req/s divided by the baseline's and by the peer's
    (``PEER_OF``) req/s in the same repeat and concurrency."""
    by_key: dict[tuple[str, int], list[Sample]] = {}
    for sample in samples:
        by_key.setdefault((sample.case, sample.concurrency), []).append(sample)
    rates = {(s.case, s.concurrency, s.repeat): s.requests_per_second for s in samples}

    def ratio(group: list[Sample], other: str | None) -> float | None:
        found = [
            s.requests_per_second / rates[(other, s.concurrency, s.repeat)]
            for s in group
            if rates.get((other, s.concurrency, s.repeat))
        ]
        return statistics.median(found) if found else None

    def median_of(values: list[float | None]) -> float | None:
        present = [v for v in values if v is not None]
        return statistics.median(present) if present else None

    rows = []
    for (case, concurrency), group in by_key.items():
        rps = [s.requests_per_second for s in group]
        rows.append(
            {
                "case": case,
                "concurrency": concurrency,
                "rps": statistics.median(rps),
                "rps_spread": (max(rps) - min(rps)) / statistics.median(rps) if rps else 0.0,
                "p50_ms": statistics.median(s.p50_ms for s in group),
                "p99_ms": statistics.median(s.p99_ms for s in group),
                "ratio": ratio(group, baseline),
                "peer_ratio": ratio(group, PEER_OF.get(case)),
                "cpu_ms": median_of([s.cpu_ms for s in group]),
                "db_cpu_ms": median_of([s.db_cpu_ms for s in group]),
                "repeats": len(group),
            }
        )
    return rows


def _figure(value: float | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def format_table(rows: list[dict], cases: tuple[str, ...], concurrencies: list[int]) -> str:
    index = {(r["case"], r["concurrency"]): r for r in rows}
    lines = [
        "| case | c | req/s | spread | p50 ms | p99 ms | ÷ bare (req/s) | ÷ peer (req/s) "
        "| CPU ms/req: server | CPU ms/req: PostgreSQL |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for concurrency in concurrencies:
        for case in cases:
            row = index.get((case, concurrency))
            if row is None:
                continue
            lines.append(
                f"| {case} | {concurrency} | {row['rps']:.0f} | {row['rps_spread']:.0%} | "
                f"{row['p50_ms']:.1f} | {row['p99_ms']:.1f} | {_figure(row['ratio'], '.2f')} | "
                f"{_figure(row.get('peer_ratio'), '.2f')} | {_figure(row.get('cpu_ms'), '.2f')} | "
                f"{_figure(row.get('db_cpu_ms'), '.2f')} |"
            )
    return "\n".join(lines)


# --- CPU time of a process tree, from /proc ------------------------------------------

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces: split after its closing ")".
    return raw[raw.rindex(")") + 2 :].split()


def process_tree(root: int) -> list[int]:
    """``root`` and every descendant (gunicorn's workers, for example)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))):
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds of each live process in ``pids``."""
    times = {}
    for pid in pids:
        fields = _stat(pid)
        if fields:
            times[pid] = (int(fields[11]) + int(fields[12])) / _TICKS
    return times


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent between two readings by the processes alive at both."""
    return sum(after[pid] - before[pid] for pid in before.keys() & after.keys())


# --- Server, database, sign-in -----------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def server_environment(
    *, database_url: str, cache_url: str, port: int, workers: int | None
) -> dict:
    env = dict(os.environ)
    env.update(
        {
            "HOSTSITE_READ_DOTENV": "0",
            "HOSTSITE_ENV": "production",
            "DEBUG": "false",
            # Fresh keys per run: the database is created afresh too.
            "SECRET_KEY": secrets.token_urlsafe(64),
            "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "ALLOWED_HOSTS": HOST,
            "DATABASE_URL": database_url,
            "CACHE_URL": cache_url,
            # Plain HTTP on loopback: no HTTPS redirect, cookies without Secure.
            "SECURE_SSL_REDIRECT": "false",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "SECURE_HSTS_SECONDS": "0",
            # The limiter still runs (its cache round trip is part of the cost), but
            # far above what the run sends.
            "SIGMA_RATE_LIMIT": "100000000/60",
            # https only (check --deploy refuses http with DEBUG off); the demo embeds
            # point at Sigma's origin, which is never contacted: signing is local.
            "SIGMA_ALLOWED_ORIGINS": "https://app.sigmacomputing.com",
            "SIGMA_EMULATOR_ORIGIN": "https://app.sigmacomputing.com",
            "BENCH_BARE_PAGE": "true",
            "HOST": HOST,
            "PORT": str(port),
        }
    )
    if workers is not None:  # otherwise the server's own default, as make serve runs it
        env["WEB_CONCURRENCY"] = str(workers)
    return env


def recreate_database(database_url: str) -> None:
    """Drop and create the loadtest's own database (never any other)."""
    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name or ""):
        raise SystemExit("LOADTEST_DATABASE_URL must name a plain database, e.g. sigma_loadtest")
    admin_url = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def flush_cache(cache_url: str) -> None:
    redis.Redis.from_url(cache_url).flushdb()


def run_manage(env: dict, *args: str) -> None:
    subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, timeout=600
    )


SEED_EXTRA = f"""
from django.contrib.auth import get_user_model
from embeds import services
from embeds.models import Embed, Team
base = Embed.objects.get(slug={EMBED_SLUG!r})
sales = Team.objects.get(name="Sales")
for n in range(1, {EXTRA_CREDENTIALS} + 1):
    credential = services.create_credential(
        name=f"Load test {{n}}", client_id=f"loadtest-{{n}}", secret="s" * 40 + str(n),
        owner_email="admin@example.com", owner_is_admin=True,
    )
    embed = Embed.objects.create(
        slug=f"loadtest-{{n}}", title=f"Load test {{n}}", url=base.url, credential=credential
    )
    embed.teams.add(sales)
"""


def seed(env: dict) -> None:
    run_manage(env, "migrate", "--noinput", "-v0")
    run_manage(env, "seed_demo", "--force")
    # Four more embeds, each on a credential of its own, visible to alice.
    run_manage(env, "shell", "-c", SEED_EXTRA)
    run_manage(env, "collectstatic", "--noinput", "-v0")


@dataclass(frozen=True)
class Target:
    """A server under test: its base URL and the root of its process tree."""

    base: str
    pid: int


@contextmanager
def started(command: list[str], *, cwd: Path, env: dict, log: Path, ready: str) -> Iterator[Target]:
    """Run ``command`` until the block ends; yields once ``ready`` answers 200."""
    base = f"http://{HOST}:{env['PORT']}"
    with log.open("w") as stderr:
        process = subprocess.Popen(  # noqa: S603
            command, cwd=cwd, env=env, stdout=stderr, stderr=stderr
        )
    try:
        for _ in range(240):  # up to a minute
            if process.poll() is not None:
                raise SystemExit(f"{command[0]} did not start:\n{log.read_text()}")
            try:
                if request(base, "GET", ready).status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.25)
        else:
            raise SystemExit(f"{command[0]} did not become ready:\n{log.read_text()}")
        yield Target(base, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def production_server(env: dict, log: Path):
    """The production server as ``make serve`` starts it (gunicorn, the project's config)."""
    command = [str(VENV_BIN / "gunicorn"), "--config", "hostsite/gunicorn.conf.py", "hostsite.wsgi"]
    return started(command, cwd=ROOT, env=env, log=log, ready="/readyz")


# --- The peer: Express + Redis sessions (bench/peer) ---------------------------------


def install_peer() -> None:
    """``npm ci`` in bench/peer when its node_modules is missing or older than the lock."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise SystemExit("The peer needs node (20+) and npm; or run with --no-peer.")
    installed = PEER_DIR / "node_modules" / ".package-lock.json"
    lock = PEER_DIR / "package-lock.json"
    if installed.exists() and installed.stat().st_mtime >= lock.stat().st_mtime:
        return
    print("Installing the peer's packages (npm ci in bench/peer)...", flush=True)
    subprocess.run(  # noqa: S603
        ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],  # noqa: S607
        cwd=PEER_DIR,
        check=True,
        timeout=600,
    )


def _claims_of(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


_DATA_SRC = re.compile(r'data-src="([^"]+)"')


def peer_environment(page: str, *, cache_url: str, port: int) -> dict:
    """The peer's settings, read off one signed page of ours: the same user, claims,
    content URL, interface options and page size. Its signing secret is its own
    (random): the peer's tokens are never sent anywhere, and HS256 costs the same."""
    src = unescape(_DATA_SRC.search(page).group(1))
    content_url, _, query = src.partition("?")
    params = query.split("&")
    token = params[0].removeprefix(":jwt=")
    claims = _claims_of(token)
    user = {
        "username": USERNAME,
        "email": claims["sub"],
        "account_type": claims.get("account_type"),
        "teams": claims.get("teams", []),
        "user_attributes": claims.get("user_attributes", {}),
    }
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
    env.update(
        {
            "NODE_ENV": "production",
            "PORT": str(port),
            "REDIS_URL": cache_url,
            "SESSION_SECRET": secrets.token_urlsafe(32),
            "EMBED_SECRET": secrets.token_urlsafe(32),
            "CLIENT_ID": claims["iss"],
            "EMBED_URL": content_url,
            "INTERFACE_OPTIONS": "&".join(p for p in params[1:] if p != ":embed=true"),
            "PEER_USER": json.dumps(user),
            "PAGE_BYTES": str(len(page.encode())),
            "TOKEN_TTL": str(claims["exp"] - claims["iat"]),
        }
    )
    return env


def peer_server(env: dict, log: Path):
    return started(["node", "server.js"], cwd=PEER_DIR, env=env, log=log, ready="/readyz")


def peer_sign_in(base: str) -> dict[str, str]:
    reply = request(
        base,
        "POST",
        "/login",
        body=json.dumps({"username": USERNAME}),
        headers={"Content-Type": "application/json"},
    )
    if reply.status != 200 or "connect.sid" not in reply.cookies:
        raise RuntimeError(f"Signing in to the peer failed ({reply.status}).")
    return reply.cookies


@dataclass
class Reply:
    status: int
    body: str
    cookies: dict[str, str]


def request(
    base: str,
    method: str,
    path: str,
    *,
    cookies: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    body: str | None = None,
) -> Reply:
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    sent = dict(headers or {})
    if cookies:
        sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    if form is not None:
        body = urlencode(form)
        sent["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, path, body=body, headers=sent)
        raw = connection.getresponse()
        text = raw.read().decode("utf-8", "replace")
        jar = SimpleCookie()
        for value in raw.headers.get_all("Set-Cookie") or []:
            jar.load(value)
        return Reply(raw.status, text, {name: m.value for name, m in jar.items()})
    finally:
        connection.close()


_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def sign_in(base: str, username: str, password: str) -> dict[str, str]:
    """Sign in through the login form; the session and CSRF cookies."""
    page = request(base, "GET", "/accounts/login/")
    token = _CSRF_INPUT.search(page.body)
    if page.status != 200 or token is None or "csrftoken" not in page.cookies:
        raise RuntimeError(f"The login page did not answer as expected ({page.status}).")
    cookies = {"csrftoken": page.cookies["csrftoken"]}
    reply = request(
        base,
        "POST",
        "/accounts/login/",
        cookies=cookies,
        form={"csrfmiddlewaretoken": token.group(1), "username": username, "password": password},
        headers={"Referer": f"{base}/accounts/login/"},
    )
    if reply.status != 302 or "sessionid" not in reply.cookies:
        raise RuntimeError(f"Signing in as {username} failed ({reply.status}).")
    cookies.update(reply.cookies)
    return cookies


# --- The run -------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """What wrk drives (a script) against which server, and where its CPU is read."""

    target: Target
    script: Path
    database_pids: Callable[[], list[int]] = list  # its PostgreSQL backends, if any


def case_scripts(directory: Path, cookies: dict[str, str]) -> dict[str, Path]:
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
    post = {
        "Cookie": cookie,
        "Content-Type": "application/json",
        "X-CSRFToken": cookies["csrftoken"],
    }
    specs = {
        "bare": ("GET", ["/bench/bare/"], {"Cookie": cookie}, ""),
        "embed": ("GET", [f"/embeds/{EMBED_SLUG}/"], {"Cookie": cookie}, ""),
        "refresh": ("POST", [f"/embeds/{EMBED_SLUG}/url/"], post, "{}"),
        "refresh-1-credential": ("POST", ["/embeds/loadtest-1/url/"], post, "{}"),
        "refresh-4-credentials": (
            "POST",
            [f"/embeds/loadtest-{n}/url/" for n in range(1, EXTRA_CREDENTIALS + 1)],
            post,
            "{}",
        ),
    }
    return _write_scripts(directory, specs)


def peer_scripts(directory: Path, cookies: dict[str, str]) -> dict[str, Path]:
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
    post = {"Cookie": cookie, "Content-Type": "application/json"}
    specs = {
        "peer-embed": ("GET", [f"/embeds/{EMBED_SLUG}/"], {"Cookie": cookie}, ""),
        "peer-refresh": ("POST", [f"/embeds/{EMBED_SLUG}/url/"], post, "{}"),
    }
    return _write_scripts(directory, specs)


def _write_scripts(directory: Path, specs: dict) -> dict[str, Path]:
    scripts = {}
    for case, (method, paths, headers, body) in specs.items():
        path = directory / f"{case}.lua"
        path.write_text(wrk_script(method=method, paths=paths, headers=headers, body=body))
        scripts[case] = path
    return scripts


def database_backends(database_url: str) -> Callable[[], list[int]]:
    """A reader of the pids of the PostgreSQL backends connected to ``database_url``'s
    database (on this machine). Backends that come and go within one wrk run (no
    persistent connections) are not seen: their CPU is left out."""
    name = urlsplit(database_url).path.lstrip("/")
    admin_url = urlsplit(database_url)._replace(path="/postgres").geturl()

    def pids() -> list[int]:
        with psycopg.connect(admin_url, autocommit=True) as connection:
            rows = connection.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            ).fetchall()
        return [pid for (pid,) in rows]

    return pids


def run_wrk(case: Case, *, name: str, concurrency: int, repeat: int, duration: float) -> Sample:
    command = wrk_command(
        url=case.target.base, concurrency=concurrency, duration=duration, script=case.script
    )
    server_pids, database_pids = process_tree(case.target.pid), case.database_pids()
    server_before, database_before = cpu_seconds(server_pids), cpu_seconds(database_pids)
    result = subprocess.run(  # noqa: S603
        command, capture_output=True, text=True, timeout=duration + 60, check=True
    )
    server_cpu = cpu_used(server_before, cpu_seconds(server_pids))
    database_cpu = cpu_used(database_before, cpu_seconds(database_pids))
    sample = parse_wrk(result.stdout, case=name, concurrency=concurrency, repeat=repeat)
    if sample.unexpected or sample.socket_errors:
        raise SystemExit(
            f"{name} at c={concurrency}: {sample.unexpected} responses other than 200, "
            f"{sample.socket_errors} socket errors; a refusal or failure would be measured."
        )
    if sample.requests:
        sample = replace(
            sample,
            cpu_ms=1000 * server_cpu / sample.requests,
            db_cpu_ms=1000 * database_cpu / sample.requests if database_pids else None,
        )
    return sample


def interleaved(
    cases: dict[str, Case],
    *,
    concurrencies: list[int],
    repeats: int,
    duration: float,
) -> list[Sample]:
    samples = []
    names = tuple(cases)
    for repeat in range(repeats):
        for concurrency in concurrencies:
            # Rotate the order each repeat: no case always runs first (or warm).
            shift = repeat % len(names)
            for name in names[shift:] + names[:shift]:
                sample = run_wrk(
                    cases[name],
                    name=name,
                    concurrency=concurrency,
                    repeat=repeat,
                    duration=duration,
                )
                cpu = _figure(sample.cpu_ms, ".2f")
                print(
                    f"  repeat {repeat + 1} c={concurrency:<3} {name:<22} "
                    f"{sample.requests_per_second:8.1f} req/s  p50 {sample.p50_ms:6.1f} ms  "
                    f"p99 {sample.p99_ms:6.1f} ms  CPU {cpu} ms/req  load {load_average()}",
                    flush=True,
                )
                samples.append(sample)
    return samples


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def load_average() -> str:
    """1/5/15-minute load; above the core count, other work skews every figure."""
    one, five, fifteen = os.getloadavg()
    busy = " (busy machine: figures are noisy)" if one > (os.cpu_count() or 1) else ""
    return f"{one:.1f} {five:.1f} {fifteen:.1f}{busy}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per wrk run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--concurrency", default="1,8,32", help="comma-separated")
    parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ["WEB_CONCURRENCY"]) if os.environ.get("WEB_CONCURRENCY") else None,
        help="server workers (default: the server's own, as make serve runs it)",
    )
    parser.add_argument("--no-peer", action="store_true", help="leave out the Express peer")
    args = parser.parse_args(argv)
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk (make loadtest does it).")
    if not args.no_peer:
        install_peer()

    database_url = os.environ.get("LOADTEST_DATABASE_URL", DEFAULT_DATABASE_URL)
    cache_url = os.environ.get("LOADTEST_CACHE_URL", DEFAULT_CACHE_URL)
    port = int(os.environ.get("LOADTEST_PORT", 0)) or free_port()
    env = server_environment(
        database_url=database_url, cache_url=cache_url, port=port, workers=args.workers
    )
    begun = datetime.now(tz=UTC)
    print(f"Load test {begun:%Y-%m-%d %H:%M} UTC on {machine()}")
    workers = args.workers or "the server's default number of"
    print(
        f"make serve's server, {workers} workers, DEBUG off, PostgreSQL "
        f"({urlsplit(database_url).path.lstrip('/')}) + Redis, wrk 1 thread, "
        f"{args.duration:g} s per run, {args.repeats} repeats, interleaved"
    )
    print(f"Load average at the start: {load_average()}")
    recreate_database(database_url)
    flush_cache(cache_url)
    seed(env)
    backends = database_backends(database_url)
    with tempfile.TemporaryDirectory(prefix="sigma-loadtest-") as tmp, ExitStack() as stack:
        directory = Path(tmp)
        server = stack.enter_context(production_server(env, directory / "server.log"))
        cookies = sign_in(server.base, USERNAME, PASSWORD)
        cases = {
            name: Case(server, script, backends)
            for name, script in case_scripts(directory, cookies).items()
        }
        page_cases = CASES
        if not args.no_peer:
            page = request(server.base, "GET", f"/embeds/{EMBED_SLUG}/", cookies=cookies)
            peer_env = peer_environment(page.body, cache_url=cache_url, port=free_port())
            peer = stack.enter_context(peer_server(peer_env, directory / "peer.log"))
            for name, script in peer_scripts(directory, peer_sign_in(peer.base)).items():
                cases[name] = Case(peer, script)
            page_cases = CASES + PEER_CASES
            print(f"Peer: Express + Redis sessions (bench/peer), node {node_version()}, 1 process")
        # Warm every worker and path once; not measured.
        for name in page_cases:
            run_wrk(cases[name], name=name, concurrency=8, repeat=-1, duration=1)
        print("Pages (bare page = 1.00):")
        samples = interleaved(
            {name: cases[name] for name in page_cases},
            concurrencies=concurrencies,
            repeats=args.repeats,
            duration=args.duration,
        )
        print("Tokens/s on the refresh endpoint, one credential vs four:")
        credential_cases = ("refresh-1-credential", "refresh-4-credentials")
        token_samples = interleaved(
            {name: cases[name] for name in credential_cases},
            concurrencies=[max(concurrencies)],
            repeats=args.repeats,
            duration=args.duration,
        )
    print()
    print(f"Load average at the end: {load_average()}")
    print(format_table(summarize(samples), page_cases, concurrencies))
    print()
    rows = summarize(token_samples, baseline="refresh-1-credential")
    print(format_table(rows, credential_cases, [max(concurrencies)]).replace("÷ bare", "÷ one"))
    return 0


def node_version() -> str:
    return subprocess.run(  # noqa: S603
        ["node", "--version"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()


if __name__ == "__main__":
    sys.exit(main())
