"""Airflow's entry to the streamstack plugin (``plugins/.airflowignore`` hides the package itself).

The plugin (Data Docs link and pages) lives in ``streamstack.providers.quality.plugin``.
"""

from streamstack.providers.quality.plugin import StreamstackPlugin

__all__ = ["StreamstackPlugin"]
