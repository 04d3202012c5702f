"""Declarative Sigma configuration (``manage.py sigma_config``).

- :mod:`embeds.config.schema`: the file format as pydantic models, its limits and
  its problems as path-keyed lines.
- :mod:`embeds.config.export`: the configuration as a document (never a secret).
- :mod:`embeds.config.plan`: import, first half: compare the document with the
  database, item by item, collecting problems and steps.
- :mod:`embeds.config.transfer`: import, read the file, plan, then apply through
  ``embeds.services`` in one transaction; export and import's public names.
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
