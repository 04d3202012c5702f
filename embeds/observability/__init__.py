"""What operators see: ``redaction``, ``logging``, ``reporting``, ``metrics``."""
