"""What the secured profile costs at start-up: ``stack up kafka pinot-zk pinot`` with and without it.

Issue #29 item 9. Each round starts the three services from an empty state dir of its own (the
first start a user makes: the broker formats its storage, the profile also makes its CA, broker
certificate and passwords), on ports of their own (the defaults + 6000, beside a running stack),
then stops them. Alternating rounds, best of N with the spread, the plain stack the reference.
A round counts only when the stack it started answers: a topic created and listed through the
broker, a table list from Pinot's controller; in the profile, with the stack's credentials, and a
client without them refused by both.

    .venv/bin/python bench/auth_startup.py --rounds 3
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import isolation  # tests/isolation.py: the stack's port variables
import rounds as rb

CLI = str(Path(sys.executable).parent / "streamstack")
SERVICES = ("kafka", "pinot-zk", "pinot")
PORT_OFFSET = -4000  # the tests' ports (defaults + 10000) - 4000: the defaults + 6000


def environment(state_dir: Path, auth: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STREAMSTACK_", "AIRFLOW_CONN_"))}
    env.update({k: str(v + PORT_OFFSET) for k, v in isolation.PORTS.items()})
    env.update({"STREAMSTACK_STATE_DIR": str(state_dir), "STREAMSTACK_AUTH": "on" if auth else "off",
                "STREAMSTACK_START_TIMEOUT": "300"})
    return env


def check(env: dict[str, str], auth: bool) -> None:
    """The started stack answers (with the credentials, and only with them in the profile)."""
    from confluent_kafka import KafkaException

    from streamstack.clients import admin_client
    from streamstack.pinot.endpoints import PinotEndpoints
    from streamstack.settings import Settings

    saved = dict(os.environ)
    os.environ.update(env)
    try:
        settings = Settings.from_env()
        config = settings.kafka_client_config()
        endpoints = PinotEndpoints.from_env(settings)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    subprocess.run([CLI, "topics", "apply"], env=env, check=True, capture_output=True, timeout=120)
    topics = admin_client(config).list_topics(timeout=10).topics
    assert any(t.endswith("purchases") for t in topics), sorted(topics)
    creds = None
    if auth:
        creds = ("admin", (settings.secrets_dir / "pinot-admin-password").read_text().strip())
        try:
            admin_client({"bootstrap.servers": config["bootstrap.servers"], "socket.timeout.ms": 3000}
                         ).list_topics(timeout=5)
        except KafkaException:
            pass
        else:
            raise AssertionError("a plaintext client was served by the secured broker")
        assert requests.get(f"{endpoints.controller_url}/tables", timeout=10).status_code == 403
    answer = requests.get(f"{endpoints.controller_url}/tables", auth=creds, timeout=10)
    assert answer.status_code == 200, answer.text


def one_round(auth: bool) -> dict:
    state = Path(tempfile.mkdtemp(prefix="auth-bench-")) / "state"
    env = environment(state, auth)
    try:
        started = time.monotonic()
        subprocess.run([CLI, "stack", "up", *SERVICES], env=env, check=True, capture_output=True, timeout=900)
        seconds = time.monotonic() - started
        check(env, auth)
        return {"startup_s": round(seconds, 1)}
    finally:
        subprocess.run([CLI, "stack", "down"], env=env, check=False, capture_output=True, timeout=300)
        shutil.rmtree(state.parent, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-write", action="store_true")
    a = ap.parse_args()
    results = rb.alternate(a.rounds, {"plain": lambda r: one_round(False), "secured": lambda r: one_round(True)},
                           log=lambda line: print(line, flush=True))
    plain, secured = results["plain"], results["secured"]
    cost = rb.best(secured, "startup_s") - rb.best(plain, "startup_s")
    text = f"""
Run {rb.machine()}; load average 1/5/15 min per round {', '.join(r['load'] for r in plain + secured)}.
`streamstack stack up {' '.join(SERVICES)}` from an empty state dir, {a.rounds} alternating rounds;
a round counts only when the started stack answered (a topic listed, Pinot's tables; in the
profile with its credentials, and a client without them refused).

| profile | start-up (best) | spread |
|---|---|---|
| plain (reference) | {rb.best(plain, 'startup_s'):.1f} s | {rb.spread(plain, 'startup_s')} |
| secured (`STREAMSTACK_AUTH=on`) | {rb.best(secured, 'startup_s'):.1f} s | {rb.spread(secured, 'startup_s')} |

The profile costs **{cost:+.1f} s** at start-up (ratio plain / secured
{rb.ratio(plain, secured, 'startup_s'):.2f}): the CA and broker certificate (keytool, first start only),
TLS on every connection, SCRAM logins.
"""
    print(text)
    if not a.no_write:
        rb.write_section("auth-startup", "Secured profile start-up cost (bench/auth_startup.py)", text)


if __name__ == "__main__":
    main()
