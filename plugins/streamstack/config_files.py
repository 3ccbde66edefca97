"""Strict readers for the YAML and JSON files of ``config/``.

PyYAML and ``json`` keep the last of two equal keys: a topic declared twice, or a setting
repeated lower down, silently replaces the first. These readers refuse duplicates with one
line naming the file, the key path and the line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from streamstack.errors import ConfigError


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects a mapping key given twice."""

    file: Path | None = None


def _mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            path = _path_to(loader, node, key)
            raise ConfigError(
                f"duplicate key (line {key_node.start_mark.line + 1}; first on line {seen[key] + 1}): "
                "the second would silently replace the first",
                file=loader.file,
                key=path,
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


def _path_to(loader: _StrictLoader, target: yaml.MappingNode, key: Any) -> str:
    """Dotted path of ``key`` inside the document (``topics.purchases``)."""

    def walk(node: yaml.Node, prefix: list[str]) -> list[str] | None:
        if node is target:
            return prefix
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                found = walk(v, [*prefix, str(getattr(k, "value", k))])
                if found is not None:
                    return found
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                found = walk(v, [*prefix, str(i)])
                if found is not None:
                    return found
        return None

    root = getattr(loader, "_root", None)
    prefix = walk(root, []) if root is not None else None
    return ".".join([*(prefix or []), str(key)])


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def load_yaml_text(text: str, file: Path) -> Any:
    """Parse ``text`` (read from ``file``), refusing duplicate keys."""
    loader = _StrictLoader(text)
    loader.file = file
    try:
        root = loader.get_single_node()
        loader._root = root  # type: ignore[attr-defined]
        return loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {' '.join(str(exc).split())}", file=file) from exc
    finally:
        loader.dispose()


def load_json_text(text: str, file: Path) -> Any:
    """Parse JSON, refusing an object key given twice."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in items:
            if key in out:
                raise ConfigError("duplicate key: the second would silently replace the first", file=file, key=key)
            out[key] = value
        return out

    try:
        return json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"invalid JSON: {exc}", file=file) from exc
