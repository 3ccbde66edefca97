"""Create (or reset the password of) Superset's admin user, reading the password from a file.

``superset fab create-admin --password ...`` would put the password on a command line, visible
to every user of the machine in ``ps``. Run with the Superset venv's python:
``SUPERSET_ADMIN_PASSWORD_FILE=... python create_admin.py`` (compose: ``SUPERSET_ADMIN_PASSWORD``
from the environment).
"""

import os
from pathlib import Path

from superset.app import create_app

USERNAME = os.environ.get("SUPERSET_ADMIN_USER", "admin")


def main() -> None:
    path = os.environ.get("SUPERSET_ADMIN_PASSWORD_FILE")
    password = Path(path).read_text().strip() if path else os.environ["SUPERSET_ADMIN_PASSWORD"]
    app = create_app()
    with app.app_context():
        from superset import security_manager

        user = security_manager.find_user(username=USERNAME)
        if user is None:
            role = security_manager.find_role("Admin")
            created = security_manager.add_user(USERNAME, "Superset", "Admin", "admin@streamstack.local", role, password)
            if not created:
                raise SystemExit(f"could not create the Superset user {USERNAME!r}")
            print(f"created Superset user {USERNAME!r}")
        else:
            security_manager.reset_password(user.id, password)
            print(f"Superset user {USERNAME!r} exists; password set from the file")


if __name__ == "__main__":
    main()
