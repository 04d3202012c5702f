"""The ``django-sigma-embed`` wheel in a Django site that is not this project.

Builds the wheel from ``pyproject.toml``, installs it (``--no-deps``) plus the
pinned versions of its dependencies into a fresh virtualenv, makes a project with
``django-admin startproject``, adds only ``INSTALLED_APPS += ["embeds"]``,
``path("embeds/", include("embeds.urls"))``, the settings from the environment and
a page using ``{% sigma_embed %}``, and loads the signed URL that page renders
from the emulator, which must accept it.

Kept fast: the venv is made without pip (this venv's pip installs into it with
``--python``), nothing resolves dependencies, and the pinned wheels are kept in a
wheelhouse inside this venv (``.venv/wheelhouse``, filled from pip's cache the first
time), so later runs install offline, without byte-compiling.
"""

from __future__ import annotations

import email
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import venv
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import Version

from tests.browser.conftest import ARTIFACTS
from tests.emulator.conftest import WORKBOOK_PATH

REPO = Path(__file__).resolve().parents[2]
DIST_NAME = "django-sigma-embed"
PIP_TIMEOUT = 600  # seconds; a cold pip cache downloads every dependency once

SETTINGS = """
# --- added for django-sigma-embed -------------------------------------------
import os

INSTALLED_APPS += ["embeds"]
MIDDLEWARE += ["embeds.http.SignedURLHeadersMiddleware"]
TEMPLATES[0]["DIRS"] = [BASE_DIR / "templates"]
# django-encrypted-model-fields (the embed secret is encrypted at rest).
FIELD_ENCRYPTION_KEY = os.environ["FIELD_ENCRYPTION_KEY"]
SIGMA_ALLOWED_ORIGINS = os.environ["SIGMA_ALLOWED_ORIGINS"].split(",")
"""

URLS = """
from django.contrib import admin
from django.shortcuts import render
from django.urls import include, path


def dashboard(request):
    return render(request, "dashboard.html")


urlpatterns = [
    path("admin/", admin.site.urls),
    path("embeds/", include("embeds.urls")),
    path("dashboard/", dashboard),
]
"""

DASHBOARD = """{% load sigma_embed %}<!doctype html>
<title>Fresh site</title>
<h1>Dashboard</h1>
{% sigma_embed "sales" %}
"""


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None, stdin: str = ""):
    result = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=PIP_TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, f"{args[:4]} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def copy_packaged_source(target: Path) -> Path:
    """A copy of exactly what packaging reads (no build/ left in the repo)."""
    target.mkdir()
    shutil.copy(REPO / "pyproject.toml", target)
    shutil.copy(REPO / "LICENSE", target)
    (target / "docs").mkdir()
    shutil.copy(REPO / "docs" / "integration.md", target / "docs")
    shutil.copytree(
        REPO / "embeds", target / "embeds", ignore=shutil.ignore_patterns("__pycache__")
    )
    return target


def build_wheel(tmp: Path) -> Path:
    """The wheel, built from a copy of exactly what packaging reads."""
    copy_packaged_source(tmp / "source")
    dist = tmp / "dist"
    run(
        sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
        "--wheel-dir", dist, "./source",
        cwd=tmp,
    )  # fmt: skip
    (wheel,) = dist.glob("*.whl")
    return wheel


def pinned_closure(requirements: list[str]) -> list[str]:
    """``name==version`` for ``requirements`` and everything they need, as installed here.

    The versions this suite runs with (requirements.txt), so the fresh venv tests the
    same code and pip's cache already holds every wheel.
    """
    pins: dict[str, str] = {}
    pending = [Requirement(r) for r in requirements]
    while pending:
        requirement = pending.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        name = canonicalize_name(requirement.name)
        if name not in pins:
            pins[name] = f"{name}=={metadata.version(name)}"
            pending.extend(Requirement(r) for r in metadata.requires(name) or [])
    return sorted(pins.values())


def wheelhouse(pins: list[str]) -> Path:
    """A folder holding a wheel for every pin, built or fetched only when missing."""
    house = Path(sys.prefix) / "wheelhouse"
    house.mkdir(exist_ok=True)
    present = {parse_wheel_filename(path.name)[:2] for path in house.glob("*.whl")}
    missing = []
    for pin in pins:
        name, version = pin.split("==")
        if (canonicalize_name(name), Version(version)) not in present:
            missing.append(pin)
    if missing:
        fetch = ["wheel", "--quiet", "--no-deps", "--wheel-dir", house]
        run(sys.executable, "-m", "pip", *fetch, *missing, cwd=house)
    return house


def requirements_of_wheel(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        text = archive.read(name).decode()
    return email.message_from_string(text).get_all("Requires-Dist") or []


def make_fresh_venv(path: Path) -> Path:
    try:
        venv.EnvBuilder(with_pip=False, clear=True).create(path)
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"cannot create a virtualenv here ({exc}); the wheel test needs one")
    python = path / "bin" / "python"
    if not python.exists():
        pytest.skip(f"the virtualenv at {path} has no bin/python (not a POSIX venv layout)")
    return python


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("wheel"))


def build_command_of_the_docs() -> list[str]:
    """The wheel build command exactly as docs/integration.md shows it."""
    text = (REPO / "docs" / "integration.md").read_text()
    (line,) = [
        line for line in text.splitlines() if line.startswith(".venv/bin/python -m pip wheel")
    ]
    return line.split("#", 1)[0].split()


def test_docs_wheel_command_builds_in_the_virtualenv_make_run_makes(tmp_path):
    """`make run` makes the venv with `python -m venv` (its bundled setuptools cannot
    build this pyproject) and installs requirements.txt, whose setuptools pin can."""
    project = copy_packaged_source(tmp_path / "project")
    try:
        venv.EnvBuilder(with_pip=True, clear=True).create(project / ".venv")
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"cannot create a virtualenv with pip here ({exc})")
    pins = [
        line.strip()
        for line in (REPO / "requirements.txt").read_text().splitlines()
        if line.startswith("setuptools==")
    ]
    assert pins, "requirements.txt pins the build backend"
    offline = ["--no-index", "--find-links", wheelhouse(pins), "--quiet"]
    run(project / ".venv/bin/python", "-m", "pip", "install", *offline, *pins, cwd=project)
    command = build_command_of_the_docs()
    assert command[:4] == [".venv/bin/python", "-m", "pip", "wheel"]
    run(*command, cwd=project)
    assert [p.name for p in (project / "dist").glob("*.whl")] == [
        "django_sigma_embed-0.1.0-py3-none-any.whl"
    ]


def test_wheel_is_named_django_sigma_embed_and_holds_only_the_app(wheel):
    assert wheel.name.startswith("django_sigma_embed-")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    top_level = {n.split("/", 1)[0] for n in names if not n.split("/", 1)[0].endswith(".dist-info")}
    assert top_level == {"embeds"}
    for expected in [
        "embeds/templates/embeds/_frame.html",
        "embeds/templates/embeds/_refused_frame.html",
        "embeds/templates/embeds/base.html",
        "embeds/templates/admin/embeds/embed/preview.html",
        "embeds/templates/admin/embeds/credential/replace_secret.html",
        "embeds/static/embeds/embed.js",
        "embeds/migrations/0001_initial.py",
        "embeds/templatetags/sigma_embed.py",
        "embeds/management/commands/sigma_check.py",
        "embeds/http.py",
    ]:
        assert expected in names
    assert not [n for n in names if "__pycache__" in n or n.startswith("tests/")]


def test_wheel_carries_no_demo_and_no_emulator(wheel):
    """The demo (seed_demo, its users and their published password) and the emulator
    are the host project's: nothing of them is in the wheel."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        texts = {
            name: archive.read(name).decode()
            for name in names
            if name.endswith((".py", ".html", ".js", ".css", ".txt", "METADATA"))
        }
    assert not [n for n in names if "seed_demo" in n or "demo" in n.lower()]
    assert not [n for n in names if "emulator" in n.lower()]
    for name, text in texts.items():
        # No demo password, no demo login created, no emulator imported or defaulted.
        assert not re.search(r"""["']demo["']""", text), name
        assert "DEMO_PASSWORD" not in text and "set_password(" not in text, name
        assert "import sigma_emulator" not in text and "from sigma_emulator" not in text, name
    assert "EMULATOR_" not in texts["embeds/conf.py"]


def test_wheel_long_description_is_the_integration_guide(wheel):
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        message = email.message_from_string(archive.read(name).decode())
    assert message["Description-Content-Type"] == "text/markdown"
    assert message["License-Expression"] == "MIT"
    description = message.get_payload()
    guide = (REPO / "docs" / "integration.md").read_text()
    assert description.strip() == guide.strip()
    assert "make run" not in description  # the demo project's README is not it


def test_wheel_declares_every_third_party_package_embeds_imports(wheel):
    declared = {canonicalize_name(Requirement(r).name) for r in requirements_of_wheel(wheel)}
    imported = set()
    for path in (REPO / "embeds").rglob("*.py"):
        for match in re.finditer(r"^(?:from|import) (\w+)", path.read_text(), re.M):
            imported.add(match.group(1))
    third_party = imported - set(sys.stdlib_module_names) - {"embeds", "__future__"}
    distributions = {
        canonicalize_name(dist)
        for module in third_party
        for dist in metadata.packages_distributions()[module]
    }
    assert distributions <= declared, distributions - declared


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(python: Path, site: Path, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    """The fresh site on ``runserver`` (DEBUG on, as startproject leaves it)."""
    port = free_port()
    server = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
        [str(python), "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=site,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.2)
    else:
        server.terminate()
        pytest.fail("the fresh site's runserver did not start")
    return server, f"http://127.0.0.1:{port}"


def open_in_chromium(browser, origin: str, session: str, emulator_origin: str) -> None:
    """alice's dashboard in Chromium: the tag's frame loads Sigma's content, sized and
    styled by embed.css alone, and the page itself keeps the browser's own styles."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": "sessionid", "value": session, "url": origin}])
    page = context.new_page()
    complaints: list[str] = []
    page.on(
        "console",
        lambda m: (
            m.type == "error"
            # A startproject site has no favicon; the browser asks for one anyway.
            and not m.location.get("url", "").endswith("/favicon.ico")
            and complaints.append(m.text)
        ),
    )
    try:
        response = page.goto(origin + "/dashboard/")
        assert response.status == 200
        # No django-csp in this site: the app sets the frame's policy itself.
        assert response.headers["content-security-policy"] == (
            f"frame-src {emulator_origin}; child-src {emulator_origin}"
        )
        page.wait_for_selector("[data-sigma-embed].is-loaded", timeout=30000)
        frame = page.frame_locator("iframe#sigma-embed")
        frame.get_by_text("alice@example.com").first.wait_for()
        box = page.locator("iframe#sigma-embed").bounding_box()
        # A frame of a sensible size, not the browser's bare 300x150 default.
        assert box["width"] >= 1000, box
        assert 500 <= box["height"] <= 900, box
        # embed.css styles the frame only: the page keeps the browser's defaults.
        assert page.evaluate("getComputedStyle(document.body).margin") == "8px"
        assert page.evaluate("getComputedStyle(document.querySelector('h1')).fontSize") == "32px"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "fresh-site.png"))
        assert complaints == []
    finally:
        context.close()


@pytest.mark.browser
def test_wheel_in_a_startproject_site_renders_an_embed_the_emulator_accepts(
    wheel, tmp_path, emulator_server, emulator_registers, browser
):
    python = make_fresh_venv(tmp_path / "venv")
    pip = [sys.executable, "-m", "pip", "--python", str(python)]
    pins = pinned_closure(requirements_of_wheel(wheel))
    house = wheelhouse(pins)
    # Offline from the wheelhouse, and without byte-compiling (Python compiles what it
    # imports): 5 s instead of ~25 s on a busy 2-core machine.
    offline = ["--no-index", "--find-links", house, "--no-deps", "--no-compile"]
    run(*pip, "install", "--quiet", *offline, wheel, *pins, cwd=tmp_path)
    # The wheel's declared dependencies are all met by what was installed.
    run(*pip, "check", cwd=tmp_path)

    site = tmp_path / "site"
    site.mkdir()
    run(python, "-m", "django", "startproject", "mysite", site, cwd=tmp_path)
    with (site / "mysite" / "settings.py").open("a") as settings_file:
        settings_file.write(SETTINGS)
    (site / "mysite" / "urls.py").write_text(URLS)
    (site / "templates").mkdir()
    (site / "templates" / "dashboard.html").write_text(DASHBOARD)
    shutil.copy(Path(__file__).with_name("fresh_site.py"), site)

    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "mysite.settings",
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "SIGMA_ALLOWED_ORIGINS": emulator_server.url,
    }
    run(python, "manage.py", "migrate", "--noinput", cwd=site, env=env)

    # The emulated Sigma organization knows the client ID, its secret and the team.
    client_id = "fresh-site-" + secrets.token_hex(4)
    secret = secrets.token_urlsafe(40)
    emulator_registers(client_id, secret)

    params = {"client_id": client_id, "secret": secret, "url": emulator_server.url + WORKBOOK_PATH}
    output = run(python, "fresh_site.py", cwd=site, env=env, stdin=json.dumps(params))
    assert secret not in output
    page = json.loads(output)
    assert page["status"] == 200
    assert "no-store" in page["headers"]["Cache-Control"]
    assert page["headers"]["Referrer-Policy"] == "no-referrer"
    assert "<h1>Dashboard</h1>" in page["html"]
    assert '<script src="/static/embeds/embed.js"></script>' in page["html"]
    # The admin pages render from the wheel's own templates.
    assert page["admin"] == dict.fromkeys(page["admin"], 200)
    (src,) = re.findall(r'data-src="([^"]+)"', page["html"])
    signed_url = src.replace("&amp;", "&")
    assert signed_url.startswith(emulator_server.url + WORKBOOK_PATH + "?")

    with urllib.request.urlopen(signed_url) as response:  # noqa: S310 - loopback emulator
        body = response.read().decode()
    assert response.status == 200
    assert "alice@example.com" in body
    # Single use: the emulator refuses the same URL a second time.
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(signed_url)  # noqa: S310

    # The same page in Chromium, served by the fresh site itself.
    server, origin = serve(python, site, env)
    try:
        emulator_server.allow_frames_from(origin)
        open_in_chromium(browser, origin, page["session"], emulator_server.url)
    finally:
        server.terminate()
        server.wait(timeout=30)
