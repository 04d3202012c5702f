"""Declarative Sigma configuration (``manage.py sigma_config``).

- :mod:`embeds.config.schema`: the file format as pydantic models, its limits and
  its problems as path-keyed lines.
- :mod:`embeds.config.transfer`: export, and import (plan against the database,
  then apply through ``embeds.services`` in one transaction).
"""

from embeds.config.schema import (
    FORMAT_VERSION,
    MAX_BYTES,
    MAX_DEPTH,
    SECRET_ENV_PREFIX,
    ConfigInvalid,
    Document,
    parse_document,
)
from embeds.config.transfer import (
    ImportReport,
    export_config,
    import_config,
    read_config,
    secret_env_name,
)

__all__ = [
    "FORMAT_VERSION",
    "MAX_BYTES",
    "MAX_DEPTH",
    "SECRET_ENV_PREFIX",
    "ConfigInvalid",
    "Document",
    "ImportReport",
    "export_config",
    "import_config",
    "parse_document",
    "read_config",
    "secret_env_name",
]
