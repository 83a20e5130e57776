"""A command with subcommands of its own (``lts export onnx``, ``lts bag eval``, ``lts sim render``)."""
from __future__ import annotations


def add_group(sub, name: str, help: str, description: str):
    """Register ``lts NAME`` and return its subparsers: each chosen one sets ``NAME_command``, and one is required."""
    group = sub.add_parser(name, help=help, description=description)
    return group.add_subparsers(dest=f"{name}_command", metavar=f"{name.upper()}_COMMAND", required=True)
