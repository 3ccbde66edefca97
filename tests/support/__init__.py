"""Helpers and fixtures shared by every test tier (``pytest_plugins`` in ``tests/conftest.py``)."""
