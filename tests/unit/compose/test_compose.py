"""Static checks of docker-compose.yml, .env.example and docker/airflow/Dockerfile.

No Docker engine runs on the development and CI machines, so the compose stack is checked
without starting it: against the Compose Specification schema (vendored, see
COMPOSE_SPEC_NOTICE.md) and against the invariants that break such stacks in practice: unpinned
images, services started before their dependencies are healthy, clashing host ports, Kafka
listeners that advertise an address clients cannot reach, connections a DAG needs but the
containers lack, and secrets written into the file.
"""

from __future__ import annotations

import ast
import copy
import json
import re
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from streamstack.airflow_env import airflow_environment
from streamstack.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERFILE = ROOT / "docker" / "airflow" / "Dockerfile"
LOCK = ROOT / "constraints" / "airflow-py3.11.txt"
SCHEMA_FILE = Path(__file__).with_name("compose-spec.json")

KAFKA_SERVICE = "kafka"
#: Where containers on the compose network and programs on the host reach the broker (PRODUCT §8).
INTERNAL_BOOTSTRAP = "kafka:29092"
EXTERNAL_BOOTSTRAP = "localhost:9092"
AIRFLOW_COMMANDS = {"api-server", "scheduler", "dag-processor", "triggerer"}
STATEFUL_SERVICES = {"postgres", "kafka", "pinot-zookeeper", "pinot-controller", "pinot-server"}
ALLOWED_CONDITIONS = {"service_healthy", "service_completed_successfully"}
#: Settings named like a secret that only say *where* one is (a file path), not the secret.
NOT_A_SECRET_SUFFIXES = ("_FILE", "_PATH", "_DIR")
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|FERNET|(^|_)KEY$|PRIVATE", re.IGNORECASE)
#: Code whose connection ids must all exist in the containers.
CONNECTION_SOURCES = ("dags/*.py", "plugins/streamstack/providers/**/*.py")
CONN_PARAM = re.compile(r"(conn_id|config_id)$")


# --- helpers ---------------------------------------------------------------------------------------


class MissingVariable(Exception):
    """A ``${VAR:?message}`` (or ``${VAR?message}``) whose variable is unset: compose would stop."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


VAR_REF = re.compile(
    r"\$(?:\$|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))"
)


def interpolate_string(text: str, env: Mapping[str, str]) -> str:
    """Compose's variable substitution for one string (``$$`` escapes a dollar)."""

    def sub(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group("braced") or match.group("plain")
        op, arg = match.group("op"), match.group("arg") or ""
        value = env.get(name)
        unset_or_empty = value is None or (value == "" and op is not None and op.startswith(":"))
        if op in (":?", "?") and (value is None or unset_or_empty):
            raise MissingVariable(name, arg)
        if op in (":-", "-") and (value is None or unset_or_empty):
            return arg
        return value or ""

    return VAR_REF.sub(sub, text)


def interpolate(node: Any, env: Mapping[str, str]) -> Any:
    """Substitute variables in every string of a loaded compose document."""
    if isinstance(node, dict):
        return {k: interpolate(v, env) for k, v in node.items()}
    if isinstance(node, list):
        return [interpolate(v, env) for v in node]
    if isinstance(node, str):
        return interpolate_string(node, env)
    return node


def strings(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)
    elif isinstance(node, str):
        yield node


def variable_refs(text: str) -> list[re.Match[str]]:
    return [m for m in VAR_REF.finditer(text) if m.group(0) != "$$"]


def env_of(service: Mapping[str, Any]) -> dict[str, str]:
    """A service's environment as a dict (the list form ``KEY=value`` too)."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip()
    return values


def lock_version(package: str) -> str:
    found = re.search(rf"^{re.escape(package)}==(\S+)$", LOCK.read_text(), re.MULTILINE)
    assert found, f"{package} is not pinned in {LOCK.name}"
    return found.group(1)


def split_image(image: str) -> tuple[str, str | None]:
    """``repo[:tag]`` (a registry host with a port is not a tag)."""
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        repo, tag = name.rsplit(":", 1)
        return repo, tag
    return name, None if not digest else "@" + digest


def published_ports(service: Mapping[str, Any]) -> list[tuple[str, int, int, str]]:
    """(host ip, host port, container port, protocol) of each published port."""
    result = []
    for entry in service.get("ports") or []:
        if isinstance(entry, dict):
            if entry.get("published") is None:
                continue
            result.append((str(entry.get("host_ip", "0.0.0.0")), int(entry["published"]),
                           int(entry["target"]), str(entry.get("protocol", "tcp"))))
            continue
        spec, _, proto = str(entry).partition("/")
        parts = spec.rsplit(":", 2)
        if len(parts) == 1:
            continue  # container port only: Docker picks a random host port
        ip = parts[0] if len(parts) == 3 else "0.0.0.0"
        result.append((ip, int(parts[-2]), int(parts[-1]), proto or "tcp"))
    return result


def parse_listeners(value: str) -> dict[str, tuple[str, int]]:
    """``NAME://host:port,...`` -> {NAME: (host, port)}."""
    listeners = {}
    for item in value.split(","):
        name, _, address = item.strip().partition("://")
        host, _, port = address.rpartition(":")
        listeners[name] = (host, int(port))
    return listeners


def dependencies(service: Mapping[str, Any]) -> dict[str, Any]:
    deps = service.get("depends_on") or {}
    return {d: None for d in deps} if isinstance(deps, list) else dict(deps)


# --- fixtures --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    """docker-compose.yml as written (anchors and merge keys resolved, variables not)."""
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def referenced_vars(raw: dict[str, Any]) -> set[str]:
    return {m.group("braced") or m.group("plain") for s in strings(raw) for m in variable_refs(s)}


@pytest.fixture(scope="module")
def compose(raw: dict[str, Any], referenced_vars: set[str]) -> dict[str, Any]:
    """The compose document as Docker would run it, every variable set to a stand-in value."""
    return interpolate(raw, {name: f"test-{name.lower()}" for name in referenced_vars})


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


@pytest.fixture(scope="module")
def one_shot(services: dict[str, dict[str, Any]]) -> set[str]:
    """Services others wait on to *finish* (init jobs); every other service runs for good."""
    return {
        dep
        for svc in services.values()
        for dep, spec in dependencies(svc).items()
        if isinstance(spec, dict) and spec.get("condition") == "service_completed_successfully"
    }


@pytest.fixture(scope="module")
def airflow_services(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    found = {name: svc for name, svc in services.items() if "AIRFLOW__CORE__EXECUTOR" in env_of(svc)}
    assert found, "no Airflow service found (none sets AIRFLOW__CORE__EXECUTOR)"
    return found


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text())


@pytest.fixture(scope="module")
def kafka_env(services: dict[str, dict[str, Any]]) -> dict[str, str]:
    assert KAFKA_SERVICE in services, f"no '{KAFKA_SERVICE}' service"
    return env_of(services[KAFKA_SERVICE])


# --- schema ----------------------------------------------------------------------------------------


def schema_errors(schema: dict[str, Any], document: Any) -> list[str]:
    validator = jsonschema.validators.validator_for(schema)(schema)
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in validator.iter_errors(document)]


def test_vendored_schema_is_the_compose_spec(schema: dict[str, Any]) -> None:
    """A truncated or swapped schema file would validate anything."""
    assert schema.get("title") == "Compose Specification"
    assert "services" in schema["properties"] and "service" in schema["$defs"]


@pytest.mark.parametrize("form", ["as written", "interpolated"])
def test_compose_file_matches_the_compose_specification(
    form: str, raw: dict[str, Any], compose: dict[str, Any], schema: dict[str, Any]
) -> None:
    errors = schema_errors(schema, raw if form == "as written" else compose)
    assert not errors, "docker-compose.yml breaks the Compose Specification:\n" + "\n".join(errors)


def test_schema_check_rejects_a_broken_file(compose: dict[str, Any], schema: dict[str, Any]) -> None:
    """The schema check above must be able to fail: a typo'd key and a wrong type are caught."""
    broken = copy.deepcopy(compose)
    broken["services"][KAFKA_SERVICE]["helthcheck"] = broken["services"][KAFKA_SERVICE].pop("healthcheck")
    broken["services"]["postgres"]["depends_on"] = {"kafka": {"condition": "service_ready"}}
    errors = schema_errors(schema, broken)
    assert any("helthcheck" in e for e in errors), errors
    assert any("service_ready" in e for e in errors), errors


# --- images ----------------------------------------------------------------------------------------


def test_every_image_is_pinned_to_an_explicit_tag(services: dict[str, dict[str, Any]]) -> None:
    problems = []
    for name, svc in services.items():
        image = svc.get("image")
        if not image:
            problems.append(f"{name}: no image (a built service needs an image: name:tag)")
            continue
        repo, tag = split_image(image)
        if tag is None:
            problems.append(f"{name}: {image} has no tag (means :latest)")
        elif tag.lower() in {"latest", "main", "master", "nightly", "edge", "stable"}:
            problems.append(f"{name}: {image} uses the moving tag '{tag}'")
        if repo.split("/")[0] in {"bitnami", "bitnamilegacy"} or "/bitnami/" in repo:
            problems.append(f"{name}: {image} is a bitnami image (catalog moved, STYLE.md §2)")
    assert not problems, "\n".join(problems)


def test_images_match_the_embedded_platform_versions(services: dict[str, dict[str, Any]]) -> None:
    """Same platform as the embedded stack: one Kafka, Pinot and Spark version everywhere."""
    from streamstack.stack.kafka import KAFKA_VERSION
    from streamstack.stack.pinot import PINOT_VERSION

    pyspark = lock_version("pyspark")
    pom = (ROOT / "tools" / "spark-kafka" / "pom.xml").read_text()
    assert f"<spark.version>{pyspark}</spark.version>" in pom, "tools/spark-kafka/pom.xml Spark != pyspark"

    by_repo: dict[str, set[str]] = {}
    for svc in services.values():
        repo, tag = split_image(svc["image"])
        by_repo.setdefault(repo, set()).add(str(tag))
    assert by_repo.get("apache/kafka") == {KAFKA_VERSION}, by_repo.get("apache/kafka")
    assert by_repo.get("apachepinot/pinot") == {PINOT_VERSION}, by_repo.get("apachepinot/pinot")
    spark_tags = by_repo.get("apache/spark", set())
    assert spark_tags, "no apache/spark service"
    for tag in spark_tags:
        assert tag.startswith(f"{pyspark}-scala2.13"), f"apache/spark:{tag} must be {pyspark}, Scala 2.13"


def test_dockerfile_base_images_are_pinned_and_match_the_lock() -> None:
    text = DOCKERFILE.read_text()
    stages: set[str] = set()
    bases = []
    for image, alias in re.findall(r"^FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?", text, re.M | re.I):
        if image not in stages:
            bases.append(image)
        if alias:
            stages.add(alias)
    assert bases, "no FROM in the Dockerfile"
    for image in bases:
        assert "$" not in image, f"FROM {image}: a variable base image cannot be checked"
        _repo, tag = split_image(image)
        assert tag and tag != "latest", f"FROM {image} is not pinned"
    airflow = [b for b in bases if b.startswith("apache/airflow:")]
    assert len(airflow) == 1, bases
    tag = split_image(airflow[0])[1] or ""
    assert lock_version("apache-airflow") in tag and tag.endswith("python3.11"), (
        f"{airflow[0]} differs from the lock (apache-airflow=={lock_version('apache-airflow')}, Python 3.11)"
    )


def test_dockerfile_installs_at_build_time_with_the_lock() -> None:
    text = dockerfile_instructions()
    installs = [c for c in re.split(r"\n(?=RUN|COPY|FROM|ENV|ARG|USER)", text) if re.search(r"\bpip install\b", c)]
    assert installs, "the Dockerfile installs nothing"
    for command in installs:
        assert "airflow-py3.11.txt" in command and re.search(r"(-c|--constraint)\s", command), (
            f"pip install without the lock:\n{command}"
        )
    assert "openjdk-17-jre" in text or "temurin" in text, "no Java 17 for spark-submit"
    assert "tools/spark-kafka/pom.xml" in text and "connector_jars" in text, (
        "Spark-Kafka jars must be resolved while building, from tools/spark-kafka/pom.xml"
    )


def dockerfile_instructions() -> str:
    """The Dockerfile without its comment lines (comments may name what is forbidden)."""
    return "\n".join(line for line in DOCKERFILE.read_text().splitlines() if not line.lstrip().startswith("#"))


def test_nothing_is_installed_at_container_start(raw: dict[str, Any]) -> None:
    env_keys = {key for svc in raw["services"].values() for key in env_of(svc)}
    assert "_PIP_ADDITIONAL_REQUIREMENTS" not in env_keys, "pip installs at start (apache/airflow#24794)"
    assert "_PIP_ADDITIONAL_REQUIREMENTS" not in dockerfile_instructions()
    for text in strings(raw):
        assert "_PIP_ADDITIONAL_REQUIREMENTS" not in text, f"pip installs at start: {text}"
        assert "spark.jars.packages" not in text and "--packages" not in text, f"jars resolved at run time: {text}"
        assert not re.search(r"\bpip3? install\b", text), f"pip install in the compose file: {text}"


# --- health gating ---------------------------------------------------------------------------------


def test_every_long_running_service_has_a_healthcheck(
    services: dict[str, dict[str, Any]], one_shot: set[str]
) -> None:
    missing = []
    for name, svc in services.items():
        if name in one_shot:
            assert str(svc.get("restart", "no")) == "no", f"one-shot {name} must not restart"
            continue
        check = svc.get("healthcheck") or {}
        test = check.get("test")
        if check.get("disable") or not test or test in (["NONE"], "NONE"):
            missing.append(name)
    assert not missing, f"long-running services without a healthcheck: {missing}"


def test_every_dependency_waits_on_a_condition(services: dict[str, dict[str, Any]], one_shot: set[str]) -> None:
    problems = []
    for name, svc in services.items():
        for dep, spec in dependencies(svc).items():
            condition = spec.get("condition") if isinstance(spec, dict) else None
            if dep not in services:
                problems.append(f"{name} -> {dep}: no such service")
            elif condition not in ALLOWED_CONDITIONS:
                problems.append(f"{name} -> {dep}: condition {condition!r} (want one of {sorted(ALLOWED_CONDITIONS)})")
            elif condition == "service_healthy" and not services[dep].get("healthcheck"):
                problems.append(f"{name} -> {dep}: waits for health but {dep} has no healthcheck")
            elif condition == "service_completed_successfully" and services[dep].get("healthcheck"):
                problems.append(f"{name} -> {dep}: waits for completion of a long-running service")
    assert not problems, "\n".join(problems)


def test_airflow_components_wait_for_the_database_and_init(
    airflow_services: dict[str, dict[str, Any]], one_shot: set[str]
) -> None:
    commands = {}
    for name, svc in airflow_services.items():
        if name in one_shot:
            script = " ".join(strings(svc.get("command")))
            assert "airflow db migrate" in script, f"{name}: the init job must migrate the DB"
            continue
        commands[str(svc.get("command"))] = name
        deps = dependencies(svc)
        assert deps.get("postgres", {}).get("condition") == "service_healthy", name
        inits = [d for d, s in deps.items() if s.get("condition") == "service_completed_successfully"]
        assert inits, f"{name} starts before the init job has migrated the DB"
    assert set(commands) == AIRFLOW_COMMANDS, f"Airflow components: {sorted(commands)}"
    images = {svc["image"] for svc in airflow_services.values()}
    assert len(images) == 1, f"the Airflow services must share one image: {images}"


# --- ports and volumes -----------------------------------------------------------------------------


def test_host_ports_are_unique_and_local(services: dict[str, dict[str, Any]]) -> None:
    seen: dict[tuple[int, str], str] = {}
    problems = []
    for name, svc in services.items():
        for ip, host_port, _target, proto in published_ports(svc):
            if (host_port, proto) in seen:
                problems.append(f"host port {host_port}/{proto}: {seen[(host_port, proto)]} and {name}")
            seen[(host_port, proto)] = name
            if ip not in {"127.0.0.1", "::1", "localhost"}:
                problems.append(f"{name}: port {host_port} published on {ip} (no auth here: bind 127.0.0.1)")
    assert seen, "no published ports at all"
    assert not problems, "\n".join(problems)


def test_flink_accepts_no_jar_uploads(services: dict[str, dict[str, Any]]) -> None:
    """Flink's REST API has no authentication: as on the embedded stack (``stack/flink.py``), the
    compose JobManager turns off web submission (jar upload and run), so its published port only
    serves the dashboard and the job submissions of ``flink run`` from Airflow."""
    import yaml

    properties = yaml.safe_load(env_of(services["flink-jobmanager"])["FLINK_PROPERTIES"])
    assert properties.get("web.submit.enable") is False, properties


def test_state_lives_in_declared_named_volumes(compose: dict[str, Any]) -> None:
    declared = set(compose.get("volumes") or {})
    used: set[str] = set()
    for name, svc in compose["services"].items():
        named = set()
        for mount in svc.get("volumes") or []:
            source = mount.get("source") if isinstance(mount, dict) else str(mount).split(":", 1)[0]
            if source and not source.startswith((".", "/", "~")):
                named.add(source)
        undeclared = named - declared
        assert not undeclared, f"{name}: volumes {sorted(undeclared)} are not declared at the top level"
        if name in STATEFUL_SERVICES:
            assert named, f"{name} keeps state but mounts no named volume"
        used |= named
    assert declared <= used, f"declared but unused volumes: {sorted(declared - used)}"


# --- Kafka listeners -------------------------------------------------------------------------------


def test_kafka_runs_kraft_with_consistent_listeners(kafka_env: dict[str, str]) -> None:
    listeners = parse_listeners(kafka_env["KAFKA_LISTENERS"])
    advertised = parse_listeners(kafka_env["KAFKA_ADVERTISED_LISTENERS"])
    protocols = dict(p.split(":") for p in kafka_env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    controller = kafka_env["KAFKA_CONTROLLER_LISTENER_NAMES"]
    inter_broker = kafka_env["KAFKA_INTER_BROKER_LISTENER_NAME"]

    assert "controller" in kafka_env["KAFKA_PROCESS_ROLES"], "KRaft: the node must also be a controller"
    assert "ZOOKEEPER" not in " ".join(kafka_env), "Kafka 4 has no ZooKeeper mode"
    assert set(listeners) <= set(protocols), f"listeners without a protocol: {set(listeners) - set(protocols)}"
    assert set(advertised) <= set(listeners), f"advertised but not listening: {set(advertised) - set(listeners)}"
    assert controller in listeners and controller not in advertised, "the controller listener is for KRaft only"
    assert inter_broker in advertised, f"inter-broker listener {inter_broker} is not advertised"
    node_id, _, voter = kafka_env["KAFKA_CONTROLLER_QUORUM_VOTERS"].partition("@")
    assert node_id == str(kafka_env["KAFKA_NODE_ID"])
    assert voter.rpartition(":")[2] == str(listeners[controller][1]), "quorum voter != controller listener port"


def test_kafka_advertises_the_addresses_clients_use(
    services: dict[str, dict[str, Any]], kafka_env: dict[str, str]
) -> None:
    listeners = parse_listeners(kafka_env["KAFKA_LISTENERS"])
    advertised = parse_listeners(kafka_env["KAFKA_ADVERTISED_LISTENERS"])
    addresses = {f"{host}:{port}": name for name, (host, port) in advertised.items()}
    assert INTERNAL_BOOTSTRAP in addresses, f"{INTERNAL_BOOTSTRAP} not advertised: {sorted(addresses)}"
    assert EXTERNAL_BOOTSTRAP in addresses, f"{EXTERNAL_BOOTSTRAP} not advertised: {sorted(addresses)}"

    # Inside the network the advertised host must resolve to the broker, and no port mapping applies.
    internal = addresses[INTERNAL_BOOTSTRAP]
    kafka = services[KAFKA_SERVICE]
    assert advertised[internal][0] in {KAFKA_SERVICE, kafka.get("hostname")}
    assert listeners[internal][1] == advertised[internal][1], "internal listener binds another port than it advertises"

    # From the host, the advertised port must be published onto the EXTERNAL listener's port.
    external = addresses[EXTERNAL_BOOTSTRAP]
    published = {host: target for _ip, host, target, _proto in published_ports(kafka)}
    assert published.get(advertised[external][1]) == listeners[external][1], (
        f"host port {advertised[external][1]} must be published to container port {listeners[external][1]}"
    )
    assert listeners[internal][1] not in published.values(), "the internal listener should not be published"
    # The embedded stack's default broker address is the one the compose broker offers the host.
    assert Settings(project_dir=ROOT, state_dir=ROOT, cache_dir=ROOT).bootstrap_servers == EXTERNAL_BOOTSTRAP


def test_clients_in_the_network_use_the_internal_listener(services: dict[str, dict[str, Any]]) -> None:
    uses = []
    for name, svc in services.items():
        if name == KAFKA_SERVICE:
            continue
        for text in strings({k: v for k, v in svc.items() if k in ("environment", "command", "healthcheck")}):
            uses += [(name, m) for m in re.findall(r"\b(?:kafka|localhost|127\.0\.0\.1):(?:9092|9093|29092)\b", text)]
    assert uses, "no container talks to Kafka"
    wrong = [(name, address) for name, address in uses if address != INTERNAL_BOOTSTRAP]
    assert not wrong, f"containers must use {INTERNAL_BOOTSTRAP}, not: {wrong}"


# --- Airflow connections and settings --------------------------------------------------------------


def _provider_source(module: str) -> Path | None:
    """The file of an installed module, found on sys.path without importing it."""
    relative = Path(*module.split("."))
    for entry in sys.path:
        for candidate in (Path(entry) / relative.with_suffix(".py"), Path(entry) / relative / "__init__.py"):
            if candidate.is_file():
                return candidate
    return None


def _class_conn_defaults(module: str, class_name: str) -> tuple[str | None, dict[str, str]]:
    """A provider class's ``default_conn_name`` and its ``__init__`` connection-id defaults."""
    source = _provider_source(module)
    if source is None:
        return None, {}
    tree = ast.parse(source.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            default_name = None
            params: dict[str, str] = {}
            for item in node.body:
                if (
                    isinstance(item, ast.Assign)
                    and isinstance(item.value, ast.Constant)
                    and any(isinstance(t, ast.Name) and t.id == "default_conn_name" for t in item.targets)
                ):
                    default_name = str(item.value.value)
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                    args = item.args.args[-len(item.args.defaults):] if item.args.defaults else []
                    pairs = [*zip(args, item.args.defaults, strict=True),
                             *zip(item.args.kwonlyargs, item.args.kw_defaults, strict=True)]
                    for arg, default in pairs:
                        if not CONN_PARAM.search(arg.arg) or default is None:
                            continue
                        if isinstance(default, ast.Constant) and isinstance(default.value, str):
                            params[arg.arg] = default.value
                        elif isinstance(default, ast.Name) and default.id == "default_conn_name" and default_name:
                            params[arg.arg] = default_name
            return default_name, params
    return None, {}


def connection_ids_used_by_code() -> dict[str, set[str]]:
    """Connection ids the DAGs and providers use -> files, read from the code (AST), not listed here.

    Counts string defaults of ``*_conn_id`` / ``*_config_id`` parameters, ``default_conn_name``
    attributes, such keyword arguments in calls, ``<ProviderClass>.default_conn_name`` references,
    and the connection defaults of provider classes called without the argument.
    """
    found: dict[str, set[str]] = {}
    files = sorted({p for pattern in CONNECTION_SOURCES for p in ROOT.glob(pattern)})
    for path in files:
        tree = ast.parse(path.read_text())
        rel = str(path.relative_to(ROOT))
        imported = {
            alias.asname or alias.name: node.module
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("airflow.providers.")
            for alias in node.names
        }

        def add(conn_id: str, where: str = rel) -> None:
            found.setdefault(conn_id, set()).add(where)

        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                args = node.args.args[-len(node.args.defaults):] if node.args.defaults else []
                for arg, default in [*zip(args, node.args.defaults, strict=True),
                                     *zip(node.args.kwonlyargs, node.args.kw_defaults, strict=True)]:
                    if CONN_PARAM.search(arg.arg) and isinstance(default, ast.Constant) and isinstance(default.value, str):
                        add(default.value)
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
                if any(isinstance(t, ast.Name) and t.id == "default_conn_name" for t in node.targets):
                    add(str(node.value.value))
            elif isinstance(node, ast.Attribute) and node.attr == "default_conn_name":
                if isinstance(node.value, ast.Name) and node.value.id in imported:
                    default_name, _ = _class_conn_defaults(imported[node.value.id], node.value.id)
                    if default_name:
                        add(default_name)
            elif isinstance(node, ast.Call):
                given = {k.arg for k in node.keywords if k.arg}
                for kw in node.keywords:
                    if kw.arg and CONN_PARAM.search(kw.arg) and isinstance(kw.value, ast.Constant):
                        add(str(kw.value.value))
                if isinstance(node.func, ast.Name) and node.func.id in imported:
                    _, params = _class_conn_defaults(imported[node.func.id], node.func.id)
                    for param, default in params.items():
                        if param not in given:
                            add(default)
    return found


def test_connection_scanner_sees_the_known_connections() -> None:
    """Guards the scan below against passing vacuously (e.g. after a refactor renames things)."""
    used = connection_ids_used_by_code()
    assert {"kafka_default", "pinot_controller_default", "pinot_broker_default"} <= set(used), sorted(used)


def test_every_connection_the_code_uses_is_defined_in_airflow_containers(
    airflow_services: dict[str, dict[str, Any]],
) -> None:
    used = connection_ids_used_by_code()
    for name, svc in airflow_services.items():
        defined = {k.removeprefix("AIRFLOW_CONN_").lower() for k in env_of(svc) if k.startswith("AIRFLOW_CONN_")}
        missing = {conn: sorted(files) for conn, files in used.items() if conn not in defined}
        assert not missing, f"{name} lacks AIRFLOW_CONN_* for connections used by: {missing}"


def test_connections_match_the_embedded_stack_and_point_at_services(
    airflow_services: dict[str, dict[str, Any]], services: dict[str, dict[str, Any]]
) -> None:
    embedded = {
        k: json.loads(v) for k, v in airflow_environment(Settings.from_env()).items() if k.startswith("AIRFLOW_CONN_")
    }
    for name, svc in airflow_services.items():
        env = env_of(svc)
        for key, spec in embedded.items():
            assert key in env, f"{name}: {key} is defined in the embedded stack but not here"
            conn = json.loads(env[key])
            assert conn["conn_type"] == spec["conn_type"], f"{name}: {key} conn_type differs from the embedded one"
            if conn["conn_type"] == "kafka":
                assert conn["extra"]["bootstrap.servers"] == INTERNAL_BOOTSTRAP, key
                continue
            if key == "AIRFLOW_CONN_KSTREAMS_DEFAULT":
                # The apps run in the worker's own container and serve HTTP on its loopback.
                assert conn["host"] == "127.0.0.1", f"{name}: {key} must point at the worker itself"
                continue
            host = conn["host"].split("://")[-1]
            assert host in services, f"{name}: {key} points at {host}, which is no service"
            target = services[host]
            assert str(conn["port"]) in " ".join(strings(target.get("command"))) or conn["port"] in [
                t for *_x, t, _p in published_ports(target)
            ], f"{name}: {key} port {conn['port']} is not what {host} listens on"


def test_settings_in_the_containers_agree_with_the_kafka_connection(
    airflow_services: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Spark jobs and Pinot table configs get Settings.bootstrap_servers: it must be the internal one."""
    for name, svc in airflow_services.items():
        env = env_of(svc)
        for key, value in env.items():
            if key.startswith("STREAMSTACK_"):
                monkeypatch.setenv(key, value)
        kafka = json.loads(env["AIRFLOW_CONN_KAFKA_DEFAULT"])["extra"]["bootstrap.servers"]
        assert Settings.from_env().bootstrap_servers == kafka, f"{name}: STREAMSTACK_* disagree with kafka_default"


def test_airflow_uses_a_real_executor_and_database(airflow_services: dict[str, dict[str, Any]]) -> None:
    for name, svc in airflow_services.items():
        env = env_of(svc)
        assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor", f"{name}: executor"
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql"), f"{name}: metadata DB"
        assert env.get("AIRFLOW__CORE__LOAD_EXAMPLES", "").lower() == "false", f"{name}: example DAGs"
        assert "/execution/" in env.get("AIRFLOW__CORE__EXECUTION_API_SERVER_URL", ""), (
            f"{name}: tasks must reach the api-server's Execution API by service name"
        )


# --- secrets ---------------------------------------------------------------------------------------


def test_secrets_are_required_variables_never_literals(raw: dict[str, Any]) -> None:
    problems = []
    for name, svc in raw["services"].items():
        for key, value in env_of(svc).items():
            refs = variable_refs(value)
            is_required_ref = len(refs) == 1 and refs[0].group(0) == value and refs[0].group("op") == ":?"
            if SECRET_NAME.search(key) and not key.endswith(NOT_A_SECRET_SUFFIXES) and not is_required_ref:
                problems.append(f"{name}.{key}: must be exactly ${{VAR:?message}}, is {value!r}")
            for userinfo in re.findall(r"://[^/@\s:]+:([^@\s]+)@", value):
                if not re.fullmatch(r"\$\{[A-Za-z_][A-Za-z0-9_]*:\?[^}]*\}", userinfo):
                    problems.append(f"{name}.{key}: password in URL must be ${{VAR:?message}}")
    for text in strings(raw):
        for ref in variable_refs(text):
            var = ref.group("braced") or ref.group("plain")
            if SECRET_NAME.search(var) and ref.group("op") != ":?":
                problems.append(f"${{{var}}} in {text[:60]!r}: a secret needs :? (no default, fail if unset)")
    assert not problems, "\n".join(problems)


def test_env_example_documents_every_variable_and_holds_no_secret(referenced_vars: set[str]) -> None:
    text = ENV_EXAMPLE.read_text()
    values = read_env_file(ENV_EXAMPLE)
    documented = set(values) | set(re.findall(r"^#\s*([A-Z][A-Z0-9_]*)=", text, re.MULTILINE))
    assert referenced_vars <= documented, f"not in .env.example: {sorted(referenced_vars - documented)}"
    filled = {k: v for k, v in values.items() if SECRET_NAME.search(k) and v}
    assert not filled, f".env.example must leave secrets empty: {sorted(filled)}"


def test_compose_stops_clearly_without_the_secrets(raw: dict[str, Any]) -> None:
    """With .env.example copied as is (secrets empty), interpolation fails naming the variable."""
    with pytest.raises(MissingVariable) as info:
        interpolate(raw, read_env_file(ENV_EXAMPLE))
    assert SECRET_NAME.search(info.value.name), info.value.name
    assert ".env" in info.value.message, f"the message for {info.value.name} should say where to set it"


def test_no_secret_looking_literals_anywhere(raw: dict[str, Any]) -> None:
    """Catches secrets in command strings and other places than environment maps."""
    literal = re.compile(r"(?i)(password|passwd|secret|api[_-]?key|fernet)[\"']?\s*[:=]\s*[\"']?([^\s\"'$,}]{4,})")
    texts = [VAR_REF.sub("", text) for text in strings(raw)]  # a ${VAR:?message} is not a literal
    hits = [(m.group(1), m.group(2)) for text in texts for m in literal.finditer(text)]
    hits = [h for h in hits if not h[1].startswith("/")]  # file paths (e.g. the passwords file) are fine
    assert not hits, f"secret-looking literals in docker-compose.yml: {hits}"


# --- Superset ---------------------------------------------------------------------------------------


def test_superset_image_is_pinned_with_the_pinot_driver_and_the_embedded_versions(
    services: dict[str, dict[str, Any]],
) -> None:
    """Same Superset as .venv-superset: the official image at the lock's version, pinotdb from the lock."""
    lock = (ROOT / "constraints" / "superset-py3.11.txt").read_text()
    version = re.search(r"^apache-superset==(\S+)$", lock, re.M).group(1)  # type: ignore[union-attr]
    pinotdb = re.search(r"^pinotdb==(\S+)$", lock, re.M).group(1)  # type: ignore[union-attr]
    dockerfile = (ROOT / "docker" / "superset" / "Dockerfile").read_text()
    assert re.search(rf"^FROM apache/superset:{re.escape(version)}$", dockerfile, re.M), "Superset base != lock"
    assert f"pinotdb=={pinotdb}" in dockerfile and "superset-py3.11.txt" in dockerfile
    svc = services["superset"]
    assert split_image(svc["image"])[1], svc["image"]
    assert svc["depends_on"]["pinot-broker"]["condition"] == "service_healthy"
    assert "/health" in " ".join(strings(svc["healthcheck"]["test"]))
    assert "superset_config.py" in env_of(svc)["SUPERSET_CONFIG_PATH"]
