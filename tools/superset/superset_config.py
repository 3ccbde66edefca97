"""Superset configuration for streamstack, the embedded stack and the compose image alike.

Everything that differs between environments comes from the environment, never from this file:
the secret key from a 0600 file (``SUPERSET_SECRET_KEY_FILE``) or ``SUPERSET_SECRET_KEY``, the
metadata database from ``SUPERSET_DATABASE_URI`` (SQLite under the state dir by default).
"""

import functools
import os
import ssl
from pathlib import Path

import certifi


def _secret_key() -> str:
    path = os.environ.get("SUPERSET_SECRET_KEY_FILE")
    if path:
        return Path(path).read_text().strip()
    key = os.environ.get("SUPERSET_SECRET_KEY", "")
    if not key:
        raise RuntimeError("set SUPERSET_SECRET_KEY_FILE or SUPERSET_SECRET_KEY")
    return key


SECRET_KEY = _secret_key()
SQLALCHEMY_DATABASE_URI = os.environ.get("SUPERSET_DATABASE_URI", "sqlite:////app/superset_home/superset.db")
# Dashboards are imported as code; the examples would only clutter the lists.
SUPERSET_LOAD_EXAMPLES = False
# Live data: a short cache keeps a 10 s auto-refresh honest.
DATA_CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
# The REST API (used by the import DAG) works with a session cookie + CSRF token.
WTF_CSRF_ENABLED = True
# A local platform contacts no outside host: Superset's pages embed a telemetry pixel
# (apachesuperset.gateway.scarf.sh) on every load, and the wheel's frontend shows it
# unconditionally. Talisman's Content Security Policy, without Superset's allowances for
# Scarf, map tiles and web fonts, keeps the browser from sending those requests at all.
# Plain http (the stack binds loopback): no https redirect, no secure-only cookie.
TALISMAN_ENABLED = True
TALISMAN_CONFIG = {
    "content_security_policy": {
        "base-uri": ["'self'"],
        "default-src": ["'self'"],
        "img-src": ["'self'", "blob:", "data:"],
        "worker-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "object-src": "'none'",
        "style-src": ["'self'", "'unsafe-inline'"],
        "font-src": ["'self'", "data:"],
        # Superset's pages run inline bootstrap scripts; what matters here is that every
        # source is the stack's own origin.
        "script-src": ["'self'", "'unsafe-inline'", "'unsafe-eval'"],
    },
    "force_https": False,
    "session_cookie_secure": False,
}
# Row limit of table charts and SQL Lab.
ROW_LIMIT = 50000
# Superset's own log level (gunicorn's access log is off).
LOG_LEVEL = os.environ.get("SUPERSET_LOG_LEVEL", "INFO")
FEATURE_FLAGS = {"DASHBOARD_NATIVE_FILTERS": True}

@functools.cache
def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=os.environ.get("SSL_CERT_FILE") or certifi.where())


def DB_CONNECTION_MUTATOR(uri, params, username, security_manager, source):
    """One TLS context per worker for pinotdb, instead of one per chart query.

    Superset opens every query on a fresh connection (NullPool); pinotdb gives each a new httpx
    client, and httpx builds a new verifying TLS context from certifi's whole CA bundle for it, even
    for plain http: 17% of the workers' CPU on a dashboard load, measured with py-spy. The shared
    context verifies exactly as httpx's default would (``SSL_CERT_FILE`` honoured likewise).
    """
    if uri.drivername.startswith("pinot"):
        params.setdefault("connect_args", {}).setdefault("verify_ssl", _tls_context())
    return uri, params
