"""cli.runtime.SharesOption: ``--shares A B C`` takes several files after one flag, parsed by
click itself (a small command made for the test, run through CliRunner)."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from brankas.cli.runtime import SharesOption


@click.command()
@click.argument("dest", required=False)
@click.option("--shares", cls=SharesOption, help="share files")
@click.option("--json", "as_json", is_flag=True)
@click.option("-o", "--out")
def tool(dest: str | None, shares: tuple[Path, ...], as_json: bool, out: str | None) -> None:
    assert all(isinstance(p, Path) for p in shares)
    click.echo(json.dumps({"dest": dest, "shares": [p.name for p in shares],
                           "json": as_json, "out": out}))


@pytest.fixture
def files(tmp_path: Path) -> list[str]:
    names = []
    for i in range(1, 5):
        path = tmp_path / f"share-{i}.txt"
        path.write_text("kata kata\n")
        names.append(str(path))
    return names


def run(*args: str) -> dict:  # type: ignore[type-arg]
    result = CliRunner().invoke(tool, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def names(paths: list[str]) -> list[str]:
    return [Path(p).name for p in paths]


def test_one_flag_takes_every_following_file(files: list[str]) -> None:
    assert run("--shares", *files[:3])["shares"] == names(files[:3])


def test_the_next_option_ends_the_list(files: list[str]) -> None:
    got = run("--shares", files[0], files[1], "--json", "-o", "x")
    assert got == {"dest": None, "shares": names(files[:2]), "json": True, "out": "x"}
    got = run("--shares", files[0], "-o", "x", files[1])  # after the option: an argument
    assert got["shares"] == names(files[:1]) and got["dest"] == files[1]


def test_repeated_flags_add_up(files: list[str]) -> None:
    got = run("--shares", files[0], "--shares", files[1], files[2], "--shares=" + files[3])
    assert got["shares"] == names(files)


def test_an_argument_before_the_option_or_after_double_dash(files: list[str]) -> None:
    assert run("disk", "--shares", *files[:2]) == {
        "dest": "disk", "shares": names(files[:2]), "json": False, "out": None}
    got = run("--shares", *files[:2], "--", "disk")
    assert got["dest"] == "disk" and got["shares"] == names(files[:2])


def test_no_option_is_an_empty_tuple() -> None:
    assert run("disk")["shares"] == []


def test_a_missing_file_or_no_file_is_a_usage_error(files: list[str], tmp_path: Path) -> None:
    result = CliRunner().invoke(tool, ["--shares", files[0], str(tmp_path / "hilang.txt")])
    assert result.exit_code == 2 and "hilang.txt" in result.output
    result = CliRunner().invoke(tool, ["--shares"])
    assert result.exit_code == 2 and "--shares" in result.output


def test_help_shows_several_files() -> None:
    result = CliRunner().invoke(tool, ["--help"])
    assert "--shares SHARE_FILE..." in result.output


def test_only_a_multiple_option_of_single_values() -> None:
    with pytest.raises(TypeError):
        SharesOption(["--shares"], nargs=2)
