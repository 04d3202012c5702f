"""Write a local .env with freshly generated keys, unless one already exists.

Keys come from URL-safe alphabets, so none starts with "$" (which django-environ
would read as a reference to another variable).
"""

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
SIGMA_ALLOWED_ORIGINS=https://app.sigmacomputing.com,http://127.0.0.1:8001
SIGMA_EMULATOR_ENABLED=true
SIGMA_EMULATOR_ORIGIN=http://127.0.0.1:8001
SIGMA_EMULATOR_FRAME_ANCESTORS=http://127.0.0.1:8000,http://localhost:8000
# The emulator also serves Sigma's REST API (sigma_check --remote, admin sync/pickers).
SIGMA_API_BASE_URL=http://127.0.0.1:8001
"""


def main(path: str) -> int:
    target = Path(path)
    if target.exists():
        print(f"{target} exists; leaving it as it is.")
        return 0
    target.write_text(
        TEMPLATE.format(
            secret_key=secrets.token_urlsafe(64),
            field_key=Fernet.generate_key().decode(),
        )
    )
    target.chmod(0o600)
    print(f"Wrote {target} with fresh keys.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else ".env"))
