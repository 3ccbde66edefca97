"""Spark's Kafka connector jars for the pip-installed pyspark, resolved once into the cache.

pyspark ships no Kafka connector; ``tools/spark-kafka/pom.xml`` names it and Maven copies its
runtime closure (minus what pyspark already has) into ``<cache>/spark-kafka-<version>``, the same
mechanism as the broker's jars. A connector of another Spark version fails at run time with
obscure ``NoSuchMethodError``s, so the versions are compared first and a mismatch is an error.
"""

from __future__ import annotations

import re
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from streamstack.errors import StackError
from streamstack.runtime.maven import copy_dependencies
from streamstack.settings import Settings

#: Jars pyspark already has (Hadoop client, logging, compression codecs, Scala library).
EXCLUDED_GROUPS = (
    "org.apache.hadoop",
    "org.slf4j",
    "org.lz4",
    "org.xerial.snappy",
    "com.github.luben",
    "org.scala-lang",
)
SPARK_VERSION_PROPERTY = re.compile(r"<spark\.version>\s*([^<\s]+)\s*</spark\.version>")


def pom_path(settings: Settings) -> Path:
    return settings.project_dir / "tools" / "spark-kafka" / "pom.xml"


def pom_spark_version(pom: Path) -> str:
    """The ``spark.version`` property of the connector pom."""
    try:
        text = pom.read_text()
    except OSError as exc:
        raise StackError(f"cannot read {pom}: {exc.strerror}") from exc
    found = SPARK_VERSION_PROPERTY.search(text)
    if not found:
        raise StackError(f"{pom} has no <spark.version> property")
    return found.group(1)


def installed_pyspark_version() -> str:
    try:
        return version("pyspark")
    except PackageNotFoundError:
        raise StackError("pyspark is not installed in this Python environment") from None


def check_versions(pom: Path, pyspark_version: str | None = None) -> str:
    """Return the common version, or raise if the pom's Spark differs from the installed pyspark."""
    wanted = pom_spark_version(pom)
    installed = pyspark_version or installed_pyspark_version()
    if wanted != installed:
        raise StackError(
            f"Spark version mismatch: {pom} resolves spark-sql-kafka {wanted} but pyspark {installed} is "
            f"installed; set <spark.version>{installed}</spark.version> in the pom (the connector must "
            "match Spark exactly, Scala 2.13)"
        )
    return wanted


def connector_dir(settings: Settings, spark_version: str) -> Path:
    return settings.cache_dir / f"spark-kafka-{spark_version}"


def connector_jars(settings: Settings | None = None) -> list[Path]:
    """Resolve (once) and return the connector jars, sorted; raises StackError on any problem."""
    settings = settings or Settings.from_env()
    pom = pom_path(settings)
    spark_version = check_versions(pom)
    dest = copy_dependencies(pom, connector_dir(settings, spark_version), extra_args=[
        "-DexcludeGroupIds=" + ",".join(EXCLUDED_GROUPS)
    ])
    jars = sorted(dest.glob("*.jar"))
    names = " ".join(j.name for j in jars)
    if f"spark-sql-kafka-0-10_2.13-{spark_version}.jar" not in names or "kafka-clients-" not in names:
        raise StackError(f"{dest} lacks spark-sql-kafka {spark_version} or kafka-clients (found: {names or 'nothing'})")
    return jars
