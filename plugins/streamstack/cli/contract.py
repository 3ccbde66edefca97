"""``streamstack contract``: the resolved event contract that every engine reads."""

from __future__ import annotations

import json
from pathlib import Path

import click

from streamstack.contract import load_contract, write_contract


@click.group()
def contract() -> None:
    """The event contract (config/contract.yaml resolved against config/generator.yaml)."""


@contract.command()
def show() -> None:
    """Print the resolved contract as JSON (the document the jobs read)."""
    click.echo(json.dumps(load_contract(), indent=2))


@contract.command()
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
def write(target: Path) -> None:
    """Write the resolved contract to TARGET (for a job's --contract FILE)."""
    click.echo(f"wrote {write_contract(target)}")
