"""Generator benchmark: load-mode throughput against Kafka's own Java producer benchmark.

Runs against the stack's broker (`streamstack stack up kafka`) on topics of its own (deleted at
the end). Each round runs, back to back on the same broker:

1. ``streamstack`` load mode: N transactions through ``KafkaSink`` (idempotent, acks=all);
   purchase lines/s and MB/s of purchase payloads, from start to the last acknowledged record.
2. ``org.apache.kafka.tools.ProducerPerformance`` (kafka-tools 4.4.0, resolved like the broker)
   with the same record count, the same payloads (a sample of the generated lines as
   ``--payload-file``, so size and compressibility match) and the same producer settings.

The ratio is generator / Java. Best of ``--rounds`` for each side (the machine is shared).

    .venv/bin/python bench/generator.py --transactions 300000 --rounds 2

``--shop`` runs the other comparison instead: the simulated shop (time model, demo.events, supply
with lost sales and restocks, the default week's anomalies and price changes) against today's
plain load mode, alternating rounds on the same broker, as a ratio of purchase lines/s (aim >= 0.9):

    .venv/bin/python bench/generator.py --shop --transactions 300000 --rounds 3
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import tempfile
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from streamstack.clients import admin_client
from streamstack.generator import build_model, load_catalogue, load_config, run_generator
from streamstack.generator.kafka import KafkaSink
from streamstack.generator.model import PurchaseEncoder
from streamstack.generator.sinks import KINDS
from streamstack.runtime.java import find_java
from streamstack.settings import Settings
from streamstack.stack.kafka import KafkaService
from streamstack.topics import TopicAdmin, TopicSpecs, load_topics

RESULTS = Path(__file__).with_name("RESULTS.md")
BEGIN, END = "<!-- generator:begin -->", "<!-- generator:end -->"
SHOP_BEGIN, SHOP_END = "<!-- generator-shop:begin -->", "<!-- generator-shop:end -->"
#: The bench's shop: the cafe's shape and supply scaled up so a round's transactions fit in its week.
SHOP_SCALE = 500
JAVA_LINE = re.compile(r"^(\d+) records sent, ([\d.]+) records/sec \(([\d.]+) MB/sec\), ([\d.]+) ms avg latency", re.M)


def bench_topics(settings: Settings, tag: str) -> TopicSpecs:
    """The generator's topics plus a Java target (a copy of purchases), renamed with ``tag``."""
    declared = load_topics(settings.topics_file)
    specs = [replace(s, name=f"bench.{tag}.{s.name}") for s in declared.topics if s.logical in KINDS]
    purchases = declared["purchases"]
    specs.append(replace(purchases, logical="java_purchases", name=f"bench.{tag}.java.{purchases.name}"))
    return TopicSpecs(file=declared.file, topics=tuple(specs))


def delete_topics(config: dict, names: list[str]) -> None:
    admin = admin_client(config)
    for future in admin.delete_topics(names, operation_timeout=30).values():
        future.result()


def run_python(config: dict, specs: TopicSpecs, transactions: int, seed: int) -> dict:
    gen_config = load_config()
    model = build_model(gen_config, load_catalogue(gen_config.catalogue_file), seed)
    sink = KafkaSink(config, specs, gen_config.producer)
    summary = run_generator(model, sink, mode="load", transactions=transactions)
    return {"records": summary.purchases, "seconds": summary.elapsed_seconds, "summary": summary}


def shop_model(transactions: int, seed: int):
    """The default shop (cafe profile, anomalies, price changes), volume and stock scaled by SHOP_SCALE."""
    from streamstack.generator import build_simulation

    gen_config = load_config()
    shop = gen_config.shop
    cafe = shop.profiles[shop.profile]
    shop = replace(shop, profiles={**shop.profiles, shop.profile: replace(
        cafe, transactions_per_hour=cafe.transactions_per_hour * SHOP_SCALE)},
        supply=replace(shop.supply, reorder_point=shop.supply.reorder_point * SHOP_SCALE,
                       order_quantity=shop.supply.order_quantity * SHOP_SCALE))
    gen_config = replace(gen_config, shop=shop)
    catalogue = load_catalogue(gen_config.catalogue_file)
    catalogue = replace(catalogue, products=tuple(replace(p, inventory=p.inventory * SHOP_SCALE)
                                                  for p in catalogue.products))
    model = build_model(gen_config, catalogue, seed)
    return gen_config, model, build_simulation(model, 7)


def run_shop(config: dict, specs: TopicSpecs, transactions: int, seed: int) -> dict:
    gen_config, model, simulation = shop_model(transactions, seed)
    sink = KafkaSink(config, specs, gen_config.producer)
    summary = run_generator(model, sink, mode="load", transactions=transactions, simulation=simulation)
    return {"records": summary.purchases, "seconds": summary.elapsed_seconds, "summary": summary}


def spread(values: list[float]) -> str:
    return f"{min(values):,.0f} - {max(values):,.0f}"


def main_shop(args: argparse.Namespace) -> None:
    settings = Settings.from_env()
    config = settings.kafka_client_config()
    specs = bench_topics(settings, uuid.uuid4().hex[:8])
    TopicAdmin(config).apply(specs)
    plain_runs, shop_runs = [], []
    try:
        for round_ in range(1, args.rounds + 1):
            for name, runner, runs in (("plain", run_python, plain_runs), ("shop", run_shop, shop_runs)):
                result = runner(config, specs, args.transactions, args.seed + round_)
                result["per_second"] = result["records"] / result["seconds"]
                runs.append(result)
                print(f"round {round_}: {name} {result['records']} purchase lines in {result['seconds']:.2f}s = "
                      f"{result['per_second']:,.0f}/s", flush=True)
    finally:
        delete_topics(config, [s.name for s in specs.topics])
    plain = max(plain_runs, key=lambda r: r["per_second"])
    shop = max(shop_runs, key=lambda r: r["per_second"])
    ratio = shop["per_second"] / plain["per_second"]
    s = shop["summary"]
    load = os.getloadavg()
    text = "\n".join([
        f"### Sales generator: the simulated shop against plain load mode ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"Machine: {machine()}; load average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} "
        "(shared with other agents' builds and tests: absolute figures are noisy, the ratio less so). "
        f"Broker: the embedded Kafka, one node. {args.transactions:,} transactions per run, "
        f"{args.rounds} alternating rounds (plain, shop, plain, shop...), best of each.",
        "",
        f"The shop run: `--days 7` of the default settings (cafe profile, the dated promotion, storm, outage, "
        f"supply hold and price changes) with volume, stock and orders x{SHOP_SCALE} so the transactions fit "
        f"in the week; it also published {s.shop_events:,} demo.events records ({s.lost_sales:,} lost sales, "
        f"{s.stockouts:,} stockouts, {s.restocks:,} restocks) and {s.products - 27} product versions.",
        "",
        "| run | purchase lines | best lines/s | spread of rounds (lines/s) |",
        "|---|---:|---:|---:|",
        f"| plain load mode (today's) | {plain['records']:,} | {plain['per_second']:,.0f} | "
        f"{spread([r['per_second'] for r in plain_runs])} |",
        f"| simulated shop, load mode | {shop['records']:,} | {shop['per_second']:,.0f} | "
        f"{spread([r['per_second'] for r in shop_runs])} |",
        "",
        f"**Ratio shop / plain: {ratio:.2f}** (aim >= 0.9).",
    ])
    print()
    print(text)
    if not args.no_write:
        block = f"{SHOP_BEGIN}\n{text.rstrip()}\n{SHOP_END}"
        current = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
        if SHOP_BEGIN in current and SHOP_END in current:
            head, rest = current.split(SHOP_BEGIN, 1)
            current = head + block + rest.split(SHOP_END, 1)[1]
        else:
            current = current.rstrip() + "\n\n" + block + "\n"
        RESULTS.write_text(current)
        print(f"\nwritten to {RESULTS}")


def sample_payloads(path: Path, lines: int, seed: int) -> tuple[int, float]:
    """Write ``lines`` generated purchase lines (the Java run's payloads); return count and mean size."""
    gen_config = load_config()
    catalogue = load_catalogue(gen_config.catalogue_file)
    model, encoder = build_model(gen_config, catalogue, seed), PurchaseEncoder(gen_config, catalogue)
    out: list[bytes] = []
    while len(out) < lines:
        out.extend(encoder.encode(model.next_transaction()))
    path.write_bytes(b"\n".join(out[:lines]))
    return lines, sum(map(len, out[:lines])) / lines


def run_java(settings: Settings, topic: str, records: int, payload_file: Path, producer: dict) -> dict:
    props = {"bootstrap.servers": settings.bootstrap_servers, "acks": "all", "enable.idempotence": "true",
             "linger.ms": producer.get("linger.ms", 5), "batch.size": producer.get("batch.size", 16384),
             "compression.type": producer.get("compression.type", "none")}
    service = KafkaService(settings)
    service.resolve()  # no-op when tools/kafka/pom.xml is already resolved
    cmd = [find_java(), "-Xms512m", "-Xmx512m", "-cp", service.classpath,
           f"-Dlog4j2.configurationFile={settings.config_dir / 'kafka' / 'log4j2.properties'}", "-Dlog4j2.level=WARN",
           "org.apache.kafka.tools.ProducerPerformance", "--topic", topic, "--num-records", str(records),
           "--throughput", "-1", "--payload-file", str(payload_file),
           "--producer-props", *(f"{k}={v}" for k, v in props.items())]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=900)
    lines = JAVA_LINE.findall(proc.stdout)
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"ProducerPerformance failed (exit {proc.returncode}):\n{(proc.stdout + proc.stderr)[-3000:]}")
    sent, per_second, _mb, latency = lines[-1]
    return {"records": int(sent), "per_second": float(per_second), "latency_ms": float(latency), "props": props}


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal"))) / 1024 / 1024
    return f"{os.cpu_count()} cores {cpu}, {mem:.0f} GiB RAM, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def write_results(text: str) -> None:
    block = f"{BEGIN}\n{text.rstrip()}\n{END}"
    current = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    if BEGIN in current and END in current:
        head, rest = current.split(BEGIN, 1)
        current = head + block + rest.split(END, 1)[1]
    else:
        current = current.rstrip() + "\n\n" + block + "\n"
    RESULTS.write_text(current)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transactions", type=int, default=300_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-write", action="store_true", help="Do not update bench/RESULTS.md.")
    parser.add_argument("--shop", action="store_true", help="Compare the simulated shop with plain load mode.")
    args = parser.parse_args()
    if args.shop:
        main_shop(args)
        return

    settings = Settings.from_env()
    config = settings.kafka_client_config()
    producer_settings = load_config().producer
    tag = uuid.uuid4().hex[:8]
    specs = bench_topics(settings, tag)
    TopicAdmin(config).apply(specs)
    py_runs, java_runs = [], []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            payload_file = Path(tmp) / "payloads.txt"
            _, mean_size = sample_payloads(payload_file, 20_000, args.seed)
            for round_ in range(1, args.rounds + 1):
                py = run_python(config, specs, args.transactions, args.seed + round_)
                py["per_second"] = py["records"] / py["seconds"]
                py_runs.append(py)
                print(f"round {round_}: streamstack {py['records']} purchase lines in {py['seconds']:.2f}s = "
                      f"{py['per_second']:,.0f}/s", flush=True)
                java = run_java(settings, specs["java_purchases"].name, py["records"], payload_file, producer_settings)
                java_runs.append(java)
                print(f"round {round_}: ProducerPerformance {java['records']} records = {java['per_second']:,.0f}/s, "
                      f"avg latency {java['latency_ms']:.0f} ms", flush=True)
    finally:
        delete_topics(config, [s.name for s in specs.topics])

    py_best = max(py_runs, key=lambda r: r["per_second"])
    java_best = max(java_runs, key=lambda r: r["per_second"])
    summary = py_best["summary"]
    py_mb = summary.megabytes_per_second  # all events' payloads; purchase lines are > 92 % of them
    java_mb = java_best["per_second"] * mean_size / 1e6
    ratio = py_best["per_second"] / java_best["per_second"]
    load = os.getloadavg()
    report = [
        f"### Sales generator, load mode ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"Machine: {machine()}; load average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} "
        "(shared with other work). Broker: the embedded Kafka 4.4.0, one node, 512 MB heap, topic with "
        f"{specs['purchases'].partitions} partitions. Best of {args.rounds} alternating rounds each.",
        "",
        f"Producer settings (both sides): acks=all, idempotence on, {', '.join(f'{k}={v}' for k, v in java_best['props'].items() if k not in ('bootstrap.servers', 'acks', 'enable.idempotence'))}.",
        "",
        "| producer | records | records/s | MB/s | mean record |",
        "|---|---:|---:|---:|---:|",
        f"| streamstack generate --mode load ({args.transactions:,} transactions, keyed) | {py_best['records']:,} | "
        f"{py_best['per_second']:,.0f} | {py_mb:.1f} | {summary.bytes / max(1, summary.events):.0f} B |",
        f"| Kafka ProducerPerformance (same payloads, keyless) | {java_best['records']:,} | "
        f"{java_best['per_second']:,.0f} | {java_mb:.1f} | {mean_size:.0f} B |",
        "",
        f"**Ratio generator / Java: {ratio:.2f}** (aim: >= 0.5; purchase lines/s aim: >= 100,000).",
        "",
        "All rounds (records/s): streamstack " + ", ".join(f"{r['per_second']:,.0f}" for r in py_runs)
        + "; Java " + ", ".join(f"{r['per_second']:,.0f}" for r in java_runs) + ".",
        "The generator's time runs from its first record (catalogue included) to the last acknowledgement "
        "(final flush); it generates, serialises and keys every record in that time. ProducerPerformance "
        "sends prepared byte arrays and times from its first send to its final flush.",
    ]
    text = "\n".join(report)
    print()
    print(text)
    if not args.no_write:
        write_results(text)
        print(f"\nwritten to {RESULTS}")


if __name__ == "__main__":
    main()
