"""Sigma's REST API: ``client`` (HTTP), ``usage`` (host vs Sigma), ``findings``."""
