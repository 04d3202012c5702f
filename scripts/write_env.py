"""Write a local .env with freshly generated keys, unless one already exists.

Keys come from URL-safe alphabets, so none starts with "$" (which django-environ
would read as a reference to another variable).

With ``--run PATH`` it records instead the demo's addresses that `make run` / `make
seed` exported (PORT, EMULATOR) in PATH (.run.env), rewritten every time: the
settings take those four addresses from it in development where neither the
environment nor .env sets them, so a command run by hand afterwards
(``sigma_embed_url``, ``sigma_check``) talks to the same emulator as the demo.

Both files are written readable by their owner only (0600): .env holds the keys.
"""

import os
import secrets
import sys
from pathlib import Path

from cryptography.fernet import Fernet

TEMPLATE = """\
# Written by `make run` on first use. Local only: never commit this file.
# Read only when HOSTSITE_ENV=development is in the process environment (make run
# sets it); a production process never reads this file.
HOSTSITE_ENV=development
SECRET_KEY={secret_key}
FIELD_ENCRYPTION_KEY={field_key}
DEBUG=true
ALLOWED_HOSTS=127.0.0.1,localhost
SIGMA_EMULATOR_ENABLED=true
# The emulator's addresses (SIGMA_EMULATOR_ORIGIN, SIGMA_API_BASE_URL: it also serves
# Sigma's REST API, SIGMA_ALLOWED_ORIGINS, SIGMA_EMULATOR_FRAME_ANCESTORS) come from
# `make run PORT=… EMULATOR=…`, which records them in .run.env. Set one here and it
# wins over .run.env (the environment wins over both).
"""


# The variables the Makefile derives from HOST/PORT/EMULATOR for `make run`.
RUN_VARIABLES = (
    "SIGMA_EMULATOR_ORIGIN",
    "SIGMA_API_BASE_URL",
    "SIGMA_ALLOWED_ORIGINS",
    "SIGMA_EMULATOR_FRAME_ANCESTORS",
)
RUN_HEADER = """\
# Written by `make run` / `make seed` each time: the demo's addresses (PORT, EMULATOR).
# Read in development for these four names only; .env and the environment win over it.
"""


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path``, readable and writable by its owner only (0600)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # a file that existed keeps its mode through O_CREAT
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def record_run(path: str) -> int:
    lines = [f"{name}={os.environ[name]}" for name in RUN_VARIABLES if os.environ.get(name)]
    write_private(Path(path), RUN_HEADER + "".join(line + "\n" for line in lines))
    return 0


def main(path: str) -> int:
    target = Path(path)
    if target.exists():
        print(f"{target} exists; leaving it as it is.")
        return 0
    write_private(
        target,
        TEMPLATE.format(
            secret_key=secrets.token_urlsafe(64),
            field_key=Fernet.generate_key().decode(),
        ),
    )
    print(f"Wrote {target} with fresh keys.")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--run"]:
        sys.exit(record_run(sys.argv[2] if len(sys.argv) > 2 else ".run.env"))
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else ".env"))
