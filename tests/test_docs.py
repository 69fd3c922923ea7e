"""Docs checked against the code: the access matrix, the command-line reference
(``docs/cli.md``) and every ``brankas …`` command that the README and ``docs/`` show.

The reference is checked command by command: each ``### `brankas …``` section must name a
real command, its synopsis must list exactly that command's options and arguments (each
option in brackets exactly when it is optional, each list of choices as the code has it),
its option table must describe only that command's options and all of them but the
acting user's; and every command and option of the real click app must have its place.
Elsewhere (README, the other pages, examples) a command shown must exist and every option
shown with it must be that command's own. Each problem is reported with where it is.
"""

from __future__ import annotations

import functools
import re
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import click
from click.testing import CliRunner

from brankas.cli.app import main
from brankas.cli.usage import LazyGroup
from brankas.core.access import MATRIX, Action
from brankas.core.terms import Role

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
CLI_DOC = DOCS / "cli.md"
README = ROOT / "README.md"

# The acting user's options, which ``brankas.cli.auth.acting_user`` adds to a command under
# these parameter names. docs/cli.md describes them once ("The acting user") and shows them
# in every synopsis, not in every option table. A command without ``--user`` (init) owns
# its ``--password-file``.
ACTING_USER = "acting_username"
ACTING_PASSWORD = "password_file"
HELP = {"-h", "--help"}
ELLIPSIS = {"...", "…"}
METAVAR = re.compile(r"[A-Z0-9_|.,:-]+|[a-z0-9-]+(\|[a-z0-9-]+)+")  # LABEL, a|b|c


def test_access_doc_matches_the_matrix():
    text = (DOCS / "access.md").read_text(encoding="utf-8")
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


# -- the click app --------------------------------------------------------------------------

def _walk(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[
        tuple[tuple[str, ...], click.Command]]:
    if isinstance(group, LazyGroup):
        group.load_all()  # the commands' modules load when called (issue 15)
    yield prefix, group
    for name, cmd in group.commands.items():
        if cmd.hidden:
            continue
        if isinstance(cmd, click.Group):
            yield from _walk(cmd, (*prefix, name))
        else:
            yield (*prefix, name), cmd


def _options(cmd: click.Command) -> list[click.Option]:
    return [p for p in cmd.params if isinstance(p, click.Option) and not p.hidden]


def _arguments(cmd: click.Command) -> list[click.Argument]:
    return [p for p in cmd.params if isinstance(p, click.Argument)]


def _documented_commands() -> dict[tuple[str, ...], click.Command]:
    """What docs/cli.md must cover: every command, and a group with options of its own
    (``brankas --version``)."""
    return {path: cmd for path, cmd in _walk(main)
            if not isinstance(cmd, click.Group) or _options(cmd)}


def _command_at(path: tuple[str, ...]) -> click.Command:
    main.load_all()
    cmd: click.Command = main
    for name in path:
        assert isinstance(cmd, click.Group)
        cmd = cmd.commands[name]
    return cmd


def _acting(cmd: click.Command) -> set[str]:
    names = {p.name for p in cmd.params}
    return {ACTING_USER, ACTING_PASSWORD} & names if ACTING_USER in names else set()


def _owners(opt: str) -> str:
    """Which commands do have ``opt`` (to say where a misplaced option belongs)."""
    owners = [" ".join(("brankas", *path)) for path, cmd in _walk(main)
              if any(opt in (*p.opts, *p.secondary_opts) for p in _options(cmd))]
    return f" (it is an option of: {', '.join(f'`{o}`' for o in owners)})" if owners else ""


def _name(path: tuple[str, ...]) -> str:
    return "`" + " ".join(("brankas", *path)) + "`"


@functools.cache
def resolve(words: tuple[str, ...]) -> tuple[str, ...] | None:
    """The command click runs for ``brankas WORDS``, as a path (``("backup", "run")`` for
    ``brankas backup E:\\disk``), or None when there is none. Click itself answers (the
    usage line of the help it prints), so a group's own routing is honoured."""
    result = CliRunner().invoke(main, [*words, "--help"], prog_name="brankas")
    if result.exit_code != 0:
        return None
    usage = next(line for line in result.output.splitlines() if line.startswith("Usage:"))
    path: list[str] = []
    for word in usage.split()[2:]:
        if not re.fullmatch(r"[a-z][a-z-]*", word):
            break
        path.append(word)
    return tuple(path)


# -- reading a command line as the docs write it ------------------------------------------

@dataclass(frozen=True)
class Token:
    text: str
    optional: bool  # written inside [ ]
    variadic: bool  # written with ... after it


def _tokens(words: list[str]) -> list[Token]:
    out, depth = [], 0
    for raw in words:
        lead = raw[: len(raw) - len(raw.lstrip("[("))]
        optional = depth + lead.count("[") > 0
        depth += raw.count("[") - raw.count("]")
        text = raw
        for mark in ELLIPSIS:
            text = text.replace(mark, "")
        text = text.strip("[]()")
        if text and text != "|":
            out.append(Token(text, optional, any(m in raw for m in ELLIPSIS)))
    return out


def _command_words(words: list[str]) -> tuple[str, ...]:
    """The words before the first option or bracket: the command and its arguments."""
    found = []
    for word in words:
        if word.startswith(("-", "[")):
            break
        if word not in ELLIPSIS:
            found.append(word)
    return tuple(found)


@dataclass
class Reading:
    path: tuple[str, ...] | None
    options: set[str] = field(default_factory=set)  # parameter names shown
    problems: list[str] = field(default_factory=list)


def read_command(line: str, where: str, *, synopsis: bool) -> Reading:
    """Check one ``brankas …`` line. Always: the command exists and each option shown is
    its own. A synopsis also: a value after each option that takes one, every argument,
    brackets exactly around what is optional, and the lists of choices."""
    line = line.replace("\\|", "|").strip()
    if synopsis:
        words = line.split()
    else:
        try:
            words = shlex.split(line, posix=True)
        except ValueError:
            words = line.split()
    words = words[1:]  # "brankas"
    path = resolve(_command_words(words))
    reading = Reading(path)
    if path is None:
        reading.problems.append(f"{where}: `{line}`: no such command")
        return reading
    cmd = _command_at(path)
    shown = _name(path)
    skip = 0
    while skip < len(words) and skip < len(path) and words[skip] == path[skip]:
        skip += 1
    by_opt = {o: p for p in _options(cmd) for o in (*p.opts, *p.secondary_opts)}
    positional: list[Token] = []
    tokens = _tokens(words[skip:])
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        i += 1
        if not tok.text.startswith("-"):
            positional.append(tok)
            continue
        opt = tok.text.split("=", 1)[0]
        if opt in HELP:
            continue
        following = tokens[i] if i < len(tokens) else None
        param = by_opt.get(opt)
        if param is None:
            reading.problems.append(
                f"{where}: `{opt}` is not an option of {shown}{_owners(opt)}")
            if following is not None and METAVAR.fullmatch(following.text):
                i += 1  # its value, not an argument
            continue
        reading.options.add(param.name or opt)
        if synopsis and tok.optional == param.required:
            state = "optional" if tok.optional else "required"
            reading.problems.append(
                f"{where}: {shown} `{opt}` is shown {state}, but it is "
                f"{'required' if param.required else 'optional'}")
        if param.is_flag or param.count or "=" in tok.text:
            continue
        i += 1  # the option's value
        if not synopsis:  # prose may name an option without its value
            continue
        if following is None or following.text.startswith("-"):
            reading.problems.append(f"{where}: {shown} `{opt}` takes a value, none is shown")
            i -= 1
        else:
            reading.problems += _choice_problems(following, param, f"{where}: {shown} `{opt}`")
    if synopsis:
        reading.problems += _argument_problems(positional, cmd, f"{where}: {shown}")
    return reading


def _choice_problems(tok: Token, param: click.Parameter, where: str) -> list[str]:
    if "|" not in tok.text or not isinstance(param.type, click.Choice):
        return []
    shown = set(tok.text.split("|"))
    real = {str(c) for c in param.type.choices if str(c)}
    if shown == real:
        return []
    return [f"{where}: choices shown {sorted(shown)}, the code has {sorted(real)}"]


def _argument_problems(shown: list[Token], cmd: click.Command, where: str) -> list[str]:
    real = _arguments(cmd)
    if len(shown) != len(real):
        return [f"{where}: shows arguments {[t.text for t in shown]}, the command takes "
                f"{[(p.name or '').upper() for p in real]}"]
    problems = []
    for tok, param in zip(shown, real, strict=True):
        if tok.variadic != (param.nargs == -1):
            problems.append(f"{where}: argument {tok.text} is "
                            f"{'repeatable' if param.nargs == -1 else 'one value'} in the code")
        if tok.optional == param.required:
            problems.append(f"{where}: argument {tok.text} is "
                            f"{'required' if param.required else 'optional'} in the code")
        problems += _choice_problems(tok, param, f"{where} argument {tok.text}")
    return problems


# -- reading Markdown ---------------------------------------------------------------------------

FENCE = re.compile(r"^\s*```")
HEADING = re.compile(r"^(#{1,3})\s")
COMMAND_HEADING = re.compile(r"^###\s+`brankas((?:\s+[a-z][a-z-]*)*)`\s*$")
TABLE_OPTION = re.compile(r"^\|\s*`(-[^`\s]*)")
SPAN = re.compile(r"`([^`\n]+)`")
BRANKAS = re.compile(r"^brankas(\s|$)")


def _blocks(lines: list[str]) -> Iterator[tuple[bool, int, str]]:
    """(inside a fenced code block, line number, line) for each line but the fences."""
    inside = False
    for number, line in enumerate(lines, start=1):
        if FENCE.match(line):
            inside = not inside
            continue
        yield inside, number, line


def commands_shown(text: str, name: str) -> Iterator[tuple[str, str]]:
    """Every ``brankas …`` a page shows, in a code block or a code span, with where."""
    for inside, number, line in _blocks(text.splitlines()):
        where = f"{name}:{number}"
        if inside:
            if BRANKAS.match(line.strip()):
                yield line.strip(), where
            continue
        for span in SPAN.findall(line.replace("\\|", "|")):
            if BRANKAS.match(span.strip()):
                yield span.strip(), where


@dataclass
class Section:
    path: tuple[str, ...]
    where: str
    code: list[list[tuple[int, str]]] = field(default_factory=list)  # code blocks
    table: list[tuple[int, str]] = field(default_factory=list)  # options in the table


def sections(text: str, name: str) -> list[Section]:
    found: list[Section] = []
    current: Section | None = None
    block: list[tuple[int, str]] | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if FENCE.match(line):
            if block is None:
                block = []
            else:
                if current is not None:
                    current.code.append(block)
                block = None
            continue
        if block is not None:
            block.append((number, line))
            continue
        if HEADING.match(line):
            m = COMMAND_HEADING.match(line)
            current = Section(tuple(m.group(1).split()), f"{name}:{number}") if m else None
            if current is not None:
                found.append(current)
            continue
        if current is not None and (m := TABLE_OPTION.match(line)):
            current.table.append((number, m.group(1)))
    return found


def reference_problems(text: str, name: str = "docs/cli.md", *,
                       complete: bool = True) -> list[str]:
    """Everything wrong with a command-line reference. ``complete``: it must also cover
    every command of the app."""
    problems: list[str] = []
    covered: dict[tuple[str, ...], str] = {}
    for sec in sections(text, name):
        heading = _name(sec.path)
        real = resolve(sec.path)
        if real != sec.path:
            problems.append(f"{sec.where}: {heading}: no such command")
            continue
        if sec.path in covered:
            problems.append(f"{sec.where}: {heading} is documented twice "
                            f"(also at {covered[sec.path]})")
        covered[sec.path] = sec.where
        cmd = _command_at(sec.path)
        if not sec.code:
            problems.append(f"{sec.where}: {heading} has no synopsis (a code block)")
            continue
        synopsis, *examples = sec.code
        shown: set[str] = set()
        for number, line in synopsis:
            if not line.strip():
                continue
            where = f"{name}:{number}"
            if not BRANKAS.match(line.strip()):
                problems.append(f"{where}: the synopsis of {heading} has a line that is "
                                "not a `brankas` command")
                continue
            reading = read_command(line, where, synopsis=True)
            problems += reading.problems
            if reading.path is not None and reading.path != sec.path:
                problems.append(f"{where}: the synopsis under {heading} runs "
                                f"{_name(reading.path)}")
                continue
            shown |= reading.options
        for p in _options(cmd):
            if p.name not in shown:
                problems.append(f"{sec.where}: {heading}: option `{p.opts[0]}` is missing "
                                "from its synopsis")
        by_opt = {o: p for p in _options(cmd) for o in (*p.opts, *p.secondary_opts)}
        described: set[str] = set()
        for number, opt in sec.table:
            param = by_opt.get(opt)
            if param is None:
                problems.append(f"{name}:{number}: the option table of {heading} describes "
                                f"`{opt}`, which is not its option{_owners(opt)}")
            else:
                described.add(param.name or opt)
        for p in _options(cmd):
            if p.name not in described and p.name not in _acting(cmd):
                problems.append(f"{sec.where}: {heading}: option `{p.opts[0]}` is missing "
                                "from its option table")
        for block in examples:
            for number, line in block:
                if BRANKAS.match(line.strip()):
                    problems += read_command(line, f"{name}:{number}", synopsis=False).problems
    if complete:
        for path in _documented_commands():
            if path not in covered:
                problems.append(f"{name}: {_name(path)} is not documented (add a "
                                f"'### {_name(path)}' section)")
    return problems


def mention_problems(text: str, name: str) -> list[str]:
    """Every ``brankas …`` the page shows must be a real command with its own options."""
    problems = []
    for line, where in commands_shown(text, name):
        problems += read_command(line, where, synopsis=False).problems
    return problems


LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def link_problems(text: str, folder: Path, name: str) -> list[str]:
    """Links to files must point at files of this repository that exist (``folder``: the
    page's folder, which relative links start from)."""
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        for target in LINK.findall(line):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            file = (folder / target.split("#", 1)[0]).resolve()
            if not file.is_relative_to(ROOT):
                problems.append(f"{name}:{number}: `{target}` is outside the repository")
            elif not file.exists():
                problems.append(f"{name}:{number}: `{target}` does not exist")
        if re.search(r"(?<![\w.])\.\./", line):
            problems.append(f"{name}:{number}: refers to a path outside the repository")
    return problems


def _pages() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def _report(problems: list[str]) -> str:
    return f"{len(problems)} problem(s):\n" + "\n".join(problems)


# -- the docs as they are -----------------------------------------------------------------

def test_the_cli_reference_matches_the_commands():
    problems = reference_problems(CLI_DOC.read_text(encoding="utf-8"))
    assert problems == [], _report(problems)


def test_every_command_shown_in_the_readme_and_docs_is_real():
    problems: list[str] = []
    for page in _pages():
        problems += mention_problems(page.read_text(encoding="utf-8"),
                                     page.relative_to(ROOT).as_posix())
    assert problems == [], _report(problems)


def test_docs_link_only_to_files_of_this_repository():
    problems: list[str] = []
    for page in _pages():
        problems += link_problems(page.read_text(encoding="utf-8"), page.parent,
                                  page.relative_to(ROOT).as_posix())
    assert problems == [], _report(problems)


def test_the_readme_keeps_the_fresh_machine_commands_and_points_to_the_reference():
    text = README.read_text(encoding="utf-8")
    code = "\n".join(line for inside, _n, line in _blocks(text.splitlines()) if inside)
    assert re.search(r"^make run\b", code, re.M), "README: `make run` is gone"
    assert re.search(r"^make test\b", code, re.M), "README: `make test` is gone"
    assert "(docs/cli.md)" in text, "README: no link to docs/cli.md"
    rows = [line for line in text.splitlines() if line.startswith("| `brankas")]
    assert rows == [], "README: the command table belongs in docs/cli.md"


# -- the checks find what they are for ----------------------------------------------------

def _section(path: str, *synopsis: str, table: tuple[str, ...] = (), example: str = "") -> str:
    lines = [f"### `brankas {path}`", "", "```text", *synopsis, "```", "",
             "| option | meaning |", "|---|---|", *[f"| `{t}` | x |" for t in table]]
    if example:
        lines += ["", "```sh", example, "```"]
    return "\n".join(lines) + "\n"


VERIFY = "brankas verify DEST [--fast | --sample PERCENT] [--json] [--user U --password-file F]"
VERIFY_TABLE = ("--fast", "--sample PERCENT", "--json")


def _only(text: str) -> list[str]:
    return reference_problems(text, "t.md", complete=False)


def _finds(check: Callable[[], list[str]], *fragments: str) -> None:
    problems = check()
    assert any(all(f in p for f in fragments) for p in problems), _report(problems)


def test_a_correct_section_has_no_problem():
    assert _only(_section("verify", VERIFY, table=VERIFY_TABLE,
                          example="brankas verify E:\\disk --sample 10")) == []


def test_an_option_of_another_command_is_found_where_it_is_shown():
    text = _section("verify", VERIFY.replace("[--json]", "[--json] [--label LABEL]"),
                    table=VERIFY_TABLE)
    _finds(lambda: _only(text), "t.md:4", "`--label` is not an option of `brankas verify`",
           "`brankas backup run`")


def test_an_option_of_another_command_in_the_table_or_an_example_is_found():
    table = _section("verify", VERIFY, table=(*VERIFY_TABLE, "--to DIR"))
    _finds(lambda: _only(table), "option table of `brankas verify`", "`--to`",
           "`brankas restore`")
    example = _section("verify", VERIFY, table=VERIFY_TABLE,
                       example="brankas verify E:\\disk --decrypt")
    _finds(lambda: _only(example), "`--decrypt` is not an option of `brankas verify`")


def test_a_command_that_does_not_exist_is_found():
    _finds(lambda: _only(_section("backup rotate", "brankas backup rotate DEST")),
           "`brankas backup rotate`: no such command")


def test_a_missing_option_is_found_in_the_synopsis_and_the_table():
    short = _section("verify", VERIFY.replace(" | --sample PERCENT", ""),
                     table=("--fast", "--json"))
    _finds(lambda: _only(short), "`--sample` is missing from its synopsis")
    _finds(lambda: _only(short), "`--sample` is missing from its option table")


def test_the_acting_user_is_in_the_synopsis_not_the_table():
    text = _section("verify", VERIFY.replace(" [--user U --password-file F]", ""),
                    table=VERIFY_TABLE)
    _finds(lambda: _only(text), "`--password-file` is missing from its synopsis")
    init = _section("init", "brankas init --office N --admin A [--full-name T] [--json]",
                    table=("--office N", "--admin A", "--full-name T", "--json"))
    _finds(lambda: _only(init), "`brankas init`: option `--password-file` is missing from "
                                "its option table")


def test_choices_brackets_and_arguments_are_checked():
    choices = _section("backup export", "brankas backup export N [--format csv|pdf] --out F "
                       "[--user U --password-file F]", table=("--format F", "--out F"))
    _finds(lambda: _only(choices), "`--format`", "['csv', 'pdf']", "['csv', 'xlsx']")
    required = _section("restore", "brankas restore DEST [--to DIR] [AGENDA...] [--decrypt] "
                        "[--passphrase-file F] [--json] [--user U --password-file F]")
    _finds(lambda: _only(required), "`--to` is shown optional, but it is required")
    arguments = _section("restore", "brankas restore DEST --to DIR [--decrypt] "
                         "[--passphrase-file F] [--json] [--user U --password-file F]")
    _finds(lambda: _only(arguments), "shows arguments ['DEST']", "'AGENDAS'")
    one = _section("open", "brankas open AGENDA... --out F [--passphrase-file F] "
                   "[--user U --password-file F]")
    _finds(lambda: _only(one), "argument AGENDA is one value in the code")


def test_a_command_missing_from_the_reference_is_found():
    problems = reference_problems(_section("verify", VERIFY, table=VERIFY_TABLE), "t.md")
    assert "t.md: `brankas serve` is not documented (add a '### `brankas serve`' section)" \
        in problems, _report(problems)
    assert "t.md: `brankas backup run` is not documented (add a '### `brankas backup run`' " \
           "section)" in problems
    assert not any("`brankas verify` is not documented" in p for p in problems)


def test_the_backup_shorthand_is_the_run_command():
    assert resolve(("backup", "E:\\disk")) == ("backup", "run")
    assert resolve(("backup", "list")) == ("backup", "list")
    assert resolve(("backup", "rotate", "now")) == ("backup", "run")  # a disk named rotate
    assert resolve(("nonsense",)) is None


def test_a_foreign_option_in_a_readme_command_is_found():
    text = "Back up: `brankas backup E:\\disk --label A --to D`, then `brankas rotate`.\n"
    _finds(lambda: mention_problems(text, "README.md"), "README.md:1",
           "`--to` is not an option of `brankas backup run`")
    _finds(lambda: mention_problems(text, "README.md"), "`brankas rotate`: no such command")


def test_a_link_outside_the_repository_or_to_nothing_is_found():
    text = ("Follows [the design](../../shared/DESIGN.md).\n"
            "See [the disk](files.md#the-backup-disk) and [gone](gone.md).\n"
            "The brief is `../shared/DESIGN.md`.\n")
    problems = link_problems(text, DOCS, "docs/x.md")
    assert problems == [
        "docs/x.md:1: `../../shared/DESIGN.md` is outside the repository",
        "docs/x.md:1: refers to a path outside the repository",
        "docs/x.md:2: `gone.md` does not exist",
        "docs/x.md:3: refers to a path outside the repository",
    ], _report(problems)
