"""A real Apache Pinot from Maven Central: ZooKeeper, then controller + broker + server in one JVM.

Two services because Pinot's ``StartServiceManager`` (one JVM for all roles, state kept across
restarts) needs an external ZooKeeper, and ``QuickStart`` (which embeds one) deletes its data
directory on every shutdown. ``pinot-zk`` is a small JVM (128 MB heap); ``pinot`` holds the
three roles. The newest Pinot on Maven Central as one runnable jar is 0.11.0
(``pinot-tools:0.11.0:jar-with-dependencies``; no 0.12/1.x jar-with-dependencies or shaded
distribution is served). Findings and pitfalls: ``docs/services/pinot.md``.

In the secured profile (``STREAMSTACK_AUTH=on``) the controller and the broker take only HTTP
basic auth (Pinot 0.11's ``BasicAuthAccessControlFactory`` of each), and the roles authenticate
to each other with the same user's token. The password is only in the 0600 role config files,
never on the command line.
"""

from __future__ import annotations

import socket
from functools import cached_property
from pathlib import Path

import requests

from streamstack.errors import StackError
from streamstack.files import replace_text
from streamstack.pinot.endpoints import PinotEndpoints, basic_token, pinot_credentials
from streamstack.runtime.java import find_java
from streamstack.runtime.maven import copy_artifact
from streamstack.runtime.ports import port_open
from streamstack.settings import Settings
from streamstack.stack.service import Service

PINOT_VERSION = "0.11.0"
PINOT_ARTIFACT = f"org.apache.pinot:pinot-tools:{PINOT_VERSION}:jar:jar-with-dependencies"
PINOT_JAR = f"pinot-tools-{PINOT_VERSION}-jar-with-dependencies.jar"
# The log4j-core inside the Pinot jar (2.17.1); put first on the classpath because the fat jar's
# Log4j2Plugins.dat is log4j-1.2-api's, so no pattern converter is registered without it.
LOG4J_ARTIFACT = "org.apache.logging.log4j:log4j-core:2.17.1"
LOG4J_JAR = "log4j-core-2.17.1.jar"

#: What Pinot's own launcher adds on Java > 11 (appAssemblerScriptTemplate).
JAVA_OPENS = [
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--add-opens=java.base/java.util=ALL-UNNAMED",
    "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
    "--add-opens=java.base/jdk.internal.misc=ALL-UNNAMED",
    "-Dio.netty.tryReflectionSetAccessible=true",
]

#: Pinot 0.11's basic-auth access control of the controller and of the broker
#: (``pinot-tools`` ``AuthQuickstart``; key names in ``ControllerConf.ACCESS_CONTROL_FACTORY_CLASS``,
#: ``CommonConstants.Broker.ACCESS_CONTROL_CONFIG_PREFIX`` + ``.class``/``.principals``).
CONTROLLER_ACCESS_CONTROL = "org.apache.pinot.controller.api.access.BasicAuthAccessControlFactory"
BROKER_ACCESS_CONTROL = "org.apache.pinot.broker.broker.BasicAuthAccessControlFactory"
def auth_properties(role: str, credentials: tuple[str, str]) -> dict[str, str]:
    """The role's basic-auth settings: who may call it (controller, broker) and the token it sends.

    The server reports and uploads completed segments to the controller (``segment.uploader``),
    downloads them (``segment.fetcher``) and calls it as a table data manager
    (``instance.auth.token``): without these a consuming segment never commits (tried: the table
    stops at its first flush threshold, ``CONSUMING`` for good). The controller's fetcher token is
    for segments it downloads by URI, set as Pinot's ``AuthQuickstart`` does.
    """
    user, password = credentials
    token = basic_token(credentials)
    if role == "controller":
        return {
            "controller.admin.access.control.factory.class": CONTROLLER_ACCESS_CONTROL,
            "controller.admin.access.control.principals": user,
            f"controller.admin.access.control.principals.{user}.password": password,
            "pinot.controller.segment.fetcher.auth.token": token,
        }
    if role == "broker":
        return {
            "pinot.broker.access.control.class": BROKER_ACCESS_CONTROL,
            "pinot.broker.access.control.principals": user,
            f"pinot.broker.access.control.principals.{user}.password": password,
        }
    if role == "server":
        return {
            "pinot.server.segment.fetcher.auth.token": token,
            "pinot.server.segment.uploader.auth.token": token,
            "pinot.server.instance.auth.token": token,
        }
    raise ValueError(f"unknown Pinot role {role!r}")


class _PinotJvm(Service):
    """What both Pinot processes share: the cached jars and the JVM options."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.pinot = PinotEndpoints.from_env(settings)

    @property
    def lib_dir(self) -> Path:
        return self.settings.cache_dir / f"pinot-{PINOT_VERSION}"

    @property
    def classpath(self) -> str:
        return f"{self.lib_dir / LOG4J_JAR}:{self.lib_dir / PINOT_JAR}"

    def resolve(self) -> None:
        copy_artifact(LOG4J_ARTIFACT, self.lib_dir)
        copy_artifact(PINOT_ARTIFACT, self.lib_dir)
        for jar in (LOG4J_JAR, PINOT_JAR):
            if not (self.lib_dir / jar).is_file():
                raise StackError(f"{self.name}: Maven reported success but {self.lib_dir / jar} is missing")

    def java(self, heap: str, *args: str) -> list[str]:
        """``java`` with Pinot's flags; ``-Duser.timezone=UTC`` because event timestamps are UTC
        strings and Pinot parses them in the JVM's zone."""
        tmp = self.state_dir / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        return [
            find_java(),
            f"-Xms{heap}",
            f"-Xmx{heap}",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=50",
            "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true",
            "-Duser.timezone=UTC",
            f"-Djava.io.tmpdir={tmp}",
            "-Dpinot.admin.system.exit=true",
            f"-Dlog4j2.configurationFile={self.settings.config_dir / 'pinot' / 'log4j2.xml'}",
            *JAVA_OPENS,
            "-cp",
            self.classpath,
            "org.apache.pinot.tools.admin.PinotAdministrator",
            *args,
        ]


class PinotZookeeperService(_PinotJvm):
    """The ZooKeeper Pinot keeps its cluster state in (Helix); data in ``<state_dir>/pinot-zk``."""

    name = "pinot-zk"

    def ports(self) -> dict[str, int]:
        return {"zookeeper": self.pinot.zk_port}

    def endpoints(self) -> dict[str, str]:
        return {"zookeeper": self.pinot.zk_address}

    def command(self) -> list[str]:
        return self.java(
            self.pinot.zk_heap,
            "StartZookeeper",
            "-zkPort",
            str(self.pinot.zk_port),
            "-dataDir",
            str((self.state_dir / "data").resolve()),
        )

    def ready(self) -> bool:
        """ZooKeeper answers the ``srvr`` four-letter command (enabled in Pinot's embedded one)."""
        try:
            with socket.create_connection((self.settings.host, self.pinot.zk_port), timeout=1) as sock:
                sock.sendall(b"srvr")
                return sock.recv(64).startswith(b"Zookeeper version")
        except OSError:
            return False


class PinotService(_PinotJvm):
    """Controller, broker and server of Pinot in one JVM (``StartServiceManager``)."""

    name = "pinot"
    #: Pinot's server waits 30 s for queries to drain before it exits; nothing is lost by not
    #: waiting (consuming segments resume from their last committed Kafka offset on start).
    stop_timeout = 10.0

    @property
    def start_timeout(self) -> float:
        # Measured 25 s on 2 idle cores; leave room for a busy machine.
        return max(self.settings.start_timeout, 180.0)

    def ports(self) -> dict[str, int]:
        e = self.pinot
        return {
            "controller": e.controller_port,
            "broker": e.broker_port,
            "server": e.server_port,
            "server-admin": e.server_admin_port,
            "server-grpc": e.server_grpc_port,
        }

    def endpoints(self) -> dict[str, str]:
        e = self.pinot
        return {"controller": e.controller_url, "broker": e.broker_url}

    @cached_property
    def credentials(self) -> tuple[str, str] | None:
        """The secured profile's ``(user, password)``, None without it (read once per service object)."""
        return pinot_credentials(self.settings)

    def _role_files(self) -> dict[str, dict[str, str]]:
        roles = self._plain_role_files()
        if self.credentials is not None:
            for role, props in roles.items():
                props.update(auth_properties(role, self.credentials))
        return roles

    def _plain_role_files(self) -> dict[str, dict[str, str]]:
        e = self.pinot
        data = (self.state_dir / "data").resolve()
        return {
            "controller": {
                "pinot.service.role": "CONTROLLER",
                "controller.helix.cluster.name": e.cluster,
                "controller.zk.str": e.zk_address,
                "controller.host": e.host,
                "controller.port": str(e.controller_port),
                "controller.vip.host": e.host,
                "controller.vip.port": str(e.controller_port),
                "controller.data.dir": str(data / "controller"),
                "controller.mode": "DUAL",
            },
            "broker": {
                "pinot.service.role": "BROKER",
                "pinot.cluster.name": e.cluster,
                "pinot.zk.server": e.zk_address,
                "pinot.broker.hostname": e.host,
                "pinot.broker.client.queryPort": str(e.broker_port),
            },
            "server": {
                "pinot.service.role": "SERVER",
                "pinot.cluster.name": e.cluster,
                "pinot.zk.server": e.zk_address,
                "pinot.server.netty.host": e.host,
                "pinot.server.netty.port": str(e.server_port),
                "pinot.server.adminapi.port": str(e.server_admin_port),
                "pinot.server.grpc.port": str(e.server_grpc_port),
                "pinot.server.instance.dataDir": str(data / "server" / "index"),
                "pinot.server.instance.segmentTarDir": str(data / "server" / "segmentTar"),
            },
        }

    def _role_path(self, role: str) -> Path:
        return self.state_dir / f"{role}.properties"

    def prepare(self) -> None:
        """Write the role configs (0600 in the secured profile: they hold the password); refuse to
        start without ZooKeeper (Helix would retry forever)."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        mode = 0o600 if self.credentials is not None else 0o644
        for role, props in self._role_files().items():
            replace_text(self._role_path(role), "".join(f"{k}={v}\n" for k, v in props.items()), mode=mode)
        if not port_open(self.settings.host, self.pinot.zk_port):
            raise StackError(
                f"pinot: ZooKeeper is not running on {self.pinot.zk_address}; "
                "start it first: `streamstack stack up pinot-zk pinot`"
            )

    def command(self) -> list[str]:
        e = self.pinot
        return self.java(
            e.heap,
            "StartServiceManager",
            "-zkAddress",
            e.zk_address,
            "-clusterName",
            e.cluster,
            "-port",
            "-1",
            "-bootstrapConfigPaths",
            *(str(self._role_path(role)) for role in ("controller", "broker", "server")),
        )

    def ready(self) -> bool:
        """Controller, broker and server all answer ``GET /health`` with 200 (with the secured
        profile's credentials: 0.11 leaves ``/health`` open, a later Pinot may not)."""
        e = self.pinot
        for url in (e.controller_url, e.broker_url, e.server_admin_url):
            try:
                if requests.get(f"{url}/health", timeout=2, auth=self.credentials).status_code != 200:
                    return False
            except requests.RequestException:
                return False
        return True
