"""Sigma mappings edited inline on Django's User and Group admin pages."""
