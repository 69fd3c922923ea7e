"""Docs checked against the code: the access matrix and the CLI reference."""

from __future__ import annotations

import re
from pathlib import Path

import click

from brankas.cli import main
from brankas.core.access import MATRIX, Action
from brankas.core.terms import Role

ROOT = Path(__file__).resolve().parents[1]


def test_access_doc_matches_the_matrix():
    text = (ROOT / "docs" / "access.md").read_text(encoding="utf-8")
    header = next(line for line in text.splitlines() if line.startswith("| action"))
    roles = [c.strip() for c in header.strip("|").split("|")[1:]]
    assert roles == [r.value for r in Role]
    table = {}
    for line in text.splitlines():
        m = re.match(r"\|\s*([a-z][a-z-]*)\s*\|(.*)\|\s*$", line)
        if m and m.group(1) != "action":
            table[m.group(1)] = [c.strip() == "yes" for c in m.group(2).split("|")]
    assert set(table) == {a.value for a in Action}
    for action in Action:
        expected = [Role(r) in MATRIX[action] for r in roles]
        assert table[action.value] == expected, action


def _commands(group: click.Group, prefix: str = "") -> list[str]:
    names = []
    for name, cmd in group.commands.items():
        full = f"{prefix}{name}"
        if isinstance(cmd, click.Group):
            names += _commands(cmd, full + " ")
        else:
            names.append(full)
    return names


def test_every_command_is_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [c for c in _commands(main) if f"`brankas {c}" not in readme]
    assert missing == []


def test_every_option_is_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    common = {"--user", "--password-file", "--help", "--actor-password-file"}
    missing = []

    def walk(group: click.Group, prefix: str) -> None:
        for name, cmd in group.commands.items():
            if isinstance(cmd, click.Group):
                walk(cmd, f"{prefix}{name} ")
                continue
            for param in cmd.params:
                for opt in getattr(param, "opts", []):
                    if opt.startswith("--") and opt not in common and opt not in readme:
                        missing.append(f"{prefix}{name} {opt}")

    walk(main, "")
    assert missing == []
