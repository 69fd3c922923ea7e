"""The hostile-disk corpus: backup disks prepared as an attacker who held them would, each
with the outcome it must have in every operation that reads or writes a disk.

A case takes a good disk (a private copy of one made through the real CLI; see
``conftest``) and prepares it. For each operation (``backup``, ``verify``, ``restore``,
``recover``, ``drill``) it states the outcome: refused with an error code (exit 1, the
code's message on stderr), or handled (exit 0 or 1, with the problem named in the output).
After every operation nothing outside the disk and the operation's own target may have
changed: the case folder (the office's data folder, a folder on the "laptop" that links on
the disk point to, the targets' parent) is hashed before and after (``harness``). The
operations in ``Case.cli`` (at least the ones the case attacks) run through the real
command with a time limit; the others through the services, in-process. The outcomes are
tabled in docs/security.md (``outcome_table``, checked by a test).

=============================  ======================================================
case                           what the disk carries
=============================  ======================================================
staging_link_to_laptop         ``.brankas-staging`` a link to a folder on the laptop
staging_link_to_office_home    ``.brankas-staging`` a link to the office's data folder
staging_strangers              a stranger's file and folder inside ``.brankas-staging``
lock_link                      the lock file a link to a laptop file
lock_fifo                      the lock file a FIFO
journal_paths_outside          ``commit.json`` naming ``..`` and absolute paths
journal_staged_name_slash      ``commit.json`` whose staged name leaves the staging folder
manifest_dotdot                ``data/arsip/../../../laptop/...`` in the manifest
manifest_absolute              absolute paths in the manifest
manifest_drive_letter          ``C:/x`` and ``data/C:/...``
manifest_backslash             ``data/arsip\\..\\..``
manifest_unc                   ``//server/share/x``
manifest_control_chars         NUL, ESC (a terminal escape), a line separator
manifest_long_line             one line of 20 MB
manifest_oversized             a 600 MiB (sparse) manifest
manifest_duplicates            a document listed twice, with two hashes
manifest_case_twins            two names that are one file on exFAT/NTFS
manifest_overlong_names        a 300-character name; a 2,000-character path
tagmanifest_outside            the tag manifest naming ``/dev/zero``, ``../outside``
lists_appended_garbage         (s18 P: the lists grow at their end) bytes that are no
                               line appended to the sizes; tags fixed
lists_truncated                the manifest cut in the middle of its last line; tags fixed
lists_prefix_altered           a document's line early in the manifest given another
                               SHA-256 (the list's length kept); tags fixed
lists_line_duplicated          the manifest's first line appended again; tags fixed
lists_journal_planted_prefix   (review s18) a commit journal planted, recording the
                               manifest's and sizes' first half (their true length
                               and SHA-256) and naming no file
fifo_manifest                  a FIFO in place of ``manifest-sha256.txt``
fifo_bag_info                  ... of ``bag-info.txt``
fifo_medium                    ... of ``brankas-medium.json``
fifo_guide                     ... of ``RESTORE-GUIDE.txt``
fifo_payload                   ... of a document
fifo_seal                      ... of the run's seal
device_payload                 a character device (``/dev/zero``'s) in place of a document
tag_file_is_folder             ``bag-info.txt`` a folder
bagit_txt_link                 ``bagit.txt`` a link to a laptop file
payload_link_to_laptop         a document a link to the same bytes on the laptop
data_folder_link               ``data/backup`` a link to a copy of it on the laptop
data_is_link                   ``data`` a link to a copy of it on the laptop
drill_dotdot_through_link      a link inside ``data/`` and ``..`` lines aimed, from the
                               drill's rebuild, at the live data folder
medium_from_another_disk       another office's disk carrying this disk's identity
forged_snapshot                the attacker's snapshot, re-encrypted to the office's
                               recipients, in place of the newest; manifests fixed
forged_run_added               the attacker's whole run (their seal) added as the newest
older_snapshot_over_newest     run 1's snapshot copied over run 2's; manifests fixed
snapshot_byte_flipped          one byte changed in the newest snapshot; manifests fixed
newest_seal_removed            run 2's seal taken away; manifests fixed
seal_foreign_key               the seal re-signed with another office's key
seals_and_anchors_stripped     the forged snapshot, every seal and every anchor removed
newest_run_removed             run 2's folder taken away; manifests fixed
damaged_unregistered           a damaged file that no register entry names
disk_full_mid_run              a disk (tmpfs) that fills during the run
disk_swapped_mid_run           the disk replaced by another office's disk once every
                               file is staged, before the commit (in-process hook)
segment_missing                the first audit segment taken away; manifests fixed
segment_truncated              the newest audit segment cut in half; manifests fixed
segment_forged                 the attacker's own entries, encrypted to the office's
                               recipients, in place of the newest segment
segment_from_another_office    the attacker's disk's segment under this disk's first
                               segment's name
segments_reordered             the two segments' contents swapped (names kept)
segment_duplicated             the first segment again under a name that overlaps
segment_unsealed_added         a segment the office never sealed, after the head
segment_oversized              the first segment a 4 GiB (sparse) file
segment_link_to_laptop         a segment a link to the same bytes on the laptop
segment_cut_manifest_kept      the newest audit segment cut in half on the disk, the
                               manifests left as they were (review of s16 A)
payload_removed                a document the office records on the disk deleted from it
                               (manifests untouched)
payload_truncated              ... cut short (a no-change backup leaves its bytes to verify)
archive_folder_link            a document's folder a link to a copy of it on the laptop
journal_part_missing           (s17 N, disk ``journal``: a base snapshot and two journal
                               parts) the first part taken away; manifests fixed
journal_parts_reordered        the two parts' contents swapped (names kept)
journal_part_forged            the attacker's own part (their rows), encrypted to the
                               office's recipients, in place of the newest
journal_part_from_another_office  the attacker's disk's snapshot under the newest
                               part's name
journal_part_replayed          the first part's bytes again in place of the second
journal_part_oversized         the newest part a 4 GiB (sparse) file
journal_part_link              the newest part a link to the same bytes on the laptop
=============================  ======================================================
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tests.hostile_disk import disktools as dt
from tests.hostile_disk.harness import run_cli, tree_diff, tree_state


@dataclass
class Env:
    """One case's world: ``root`` holds the office's data folder (``home``), the disk, a
    folder of the laptop's (``laptop``: what links on the disk point to), the operations'
    targets (``out``) and the CLI's scratch folder."""

    root: Path
    home: Path
    disk: Path
    laptop: Path
    out: Path
    scratch: Path
    templates: Any  # conftest.Templates
    recovery_file: Path
    kabid_passphrase: Path
    docs: dict[str, Any]
    notes: dict[str, Any] = field(default_factory=dict)  # what a case leaves for its checks

    def doc(self, classification: str = "biasa", direction: str = "pengiriman") -> Any:
        return next(d for d in self.docs.values()
                    if d.classification == classification and d.direction == direction)

    def fmt(self, text: str) -> str:
        """``text`` with {bk} {bp} (the biasa pengiriman and penerimaan documents' agenda
        numbers), {d5}, {run1} and {run2} (the good disk's run folders) filled in."""
        runs = self.notes.get("runs", [])
        return text.format(bk=self.doc("biasa", "pengiriman").agenda,
                           bp=self.doc("biasa", "penerimaan").agenda,
                           d5=self.templates.d5.agenda,
                           run1=runs[0] if runs else "?", run2=runs[1] if len(runs) > 1 else "?")


@dataclass(frozen=True)
class Expect:
    """One operation's outcome: the exit status; the refusal's error code (exit 1);
    texts that must appear in its output; texts that must not."""

    exit: int
    code: str | None = None
    named: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()


def refused(code: str, *named: str) -> Expect:
    return Expect(1, code, named)


def problems(*named: str, absent: tuple[str, ...] = ()) -> Expect:
    """Handled: exit 1, the problem named."""
    return Expect(1, None, named, absent)


def ok(*named: str, absent: tuple[str, ...] = ()) -> Expect:
    return Expect(0, None, named, absent)


Check = Callable[[Env, dict[str, Any]], None]


@dataclass(frozen=True)
class Case:
    id: str
    prepare: Callable[[Env], None]
    expect: dict[str, Expect]  # per operation
    cli: frozenset[str]  # operations run through the real command (what the case attacks)
    base: str = "one"  # the good disk it starts from: one, two, pending
    drill_as_holder: bool = False  # the drill as a key holder (it rebuilds an instance)
    # Further checks, each run right after an operation (its name), given the outcomes.
    after: dict[str, Check] = field(default_factory=dict)
    needs_root: bool = False
    posix_only: bool = False  # prepared with symbolic links or FIFOs
    backup_may_write: bool = False  # a refused backup may have changed the disk (mid-run)
    # The in-process backup's progress callback (to act on the disk mid-run), or None.
    backup_progress: Callable[[Env], Callable[[int, int, int, int], None]] | None = None


# -- the staging folder, the lock and the journal ---------------------------------------

def staging_link_to_laptop(env: Env) -> None:
    dt.replace_with_link(env.disk / ".brankas-staging", env.laptop / "desk")


def staging_link_to_office_home(env: Env) -> None:
    dt.replace_with_link(env.disk / ".brankas-staging", env.home)


def staging_strangers(env: Env) -> None:
    staging = env.disk / ".brankas-staging"
    (staging / "catatan-penting.docx").write_bytes(b"someone's notes")
    (staging / "folder-lain").mkdir()
    (staging / "folder-lain" / "x.txt").write_bytes(b"x")


def lock_link(env: Env) -> None:
    dt.replace_with_link(env.disk / ".brankas-staging" / "lock", env.laptop / "desk" /
                         "sentinel.txt")


def lock_fifo(env: Env) -> None:
    dt.replace_with_fifo(env.disk / ".brankas-staging" / "lock")


def _journal(env: Env, files: list[dict[str, Any]]) -> None:
    body = {"run": "9", "files": files}
    (env.disk / ".brankas-staging" / "commit.json").write_text(json.dumps(body))


def journal_paths_outside(env: Env) -> None:
    """An interrupted commit as an attacker writes it: staged copies (with Brankas's own
    staging names) to be moved to paths outside data/."""
    data = b"%PDF-1.4 planted\n"
    staged = env.disk / ".brankas-staging"
    files = []
    targets = ["../../laptop/desk/planted.pdf", str(env.laptop / "desk" / "planted-abs.pdf"),
               "arsip/../../../laptop/desk/planted-dots.pdf"]
    for i, target in enumerate(targets, 1):
        name = f"0123456789ab-{i:08d}.part"
        (staged / name).write_bytes(data)
        files.append({"path": target, "staged": name, "sha256": dt.sha(data),
                      "size": len(data)})
    _journal(env, files)


def journal_staged_name_slash(env: Env) -> None:
    """A journal whose staged name points out of the staging folder, at the laptop's
    file: finishing that 'commit' would move the laptop's file onto the disk."""
    victim = env.laptop / "desk" / "sentinel.txt"
    data = victim.read_bytes()
    _journal(env, [
        {"path": "arsip/biasa/pengiriman/2026/K-2026-0099-dicuri.pdf",
         "staged": "../../laptop/desk/sentinel.txt", "sha256": dt.sha(data), "size": len(data)},
        {"path": "arsip/biasa/pengiriman/2026/K-2026-0098-dicuri.pdf",
         "staged": str(victim), "sha256": dt.sha(data), "size": len(data)},
    ])


# -- the payload manifest -----------------------------------------------------------------

def _lines(*paths: str, digest: str = "0" * 64) -> Callable[[Env], None]:
    def prepare(env: Env) -> None:
        dt.add_manifest_lines(env.disk, [f"{digest}  {p}" for p in paths])
    return prepare


def manifest_dotdot(env: Env) -> None:
    """Read from the disk, this path reaches the laptop's sentinel; from the set-aside
    folder of a recovered instance, it leaves the new home."""
    digest = dt.sha((env.laptop / "desk" / "sentinel.txt").read_bytes())
    dt.add_manifest_lines(env.disk, [
        f"{digest}  data/arsip/../../../laptop/desk/sentinel.txt",
        f"{digest}  data/arsip/biasa/../../../../../../laptop/desk/planted.txt"])


def manifest_absolute(env: Env) -> None:
    target = env.laptop / "desk" / "sentinel.txt"
    digest = dt.sha(target.read_bytes())
    dt.add_manifest_lines(env.disk, [f"{digest}  {target}", f"{digest}  data/{target}"])


manifest_drive_letter = _lines("C:/x", "data/C:/Windows/system32/x.pdf",
                               "data/arsip/C:x.pdf")
manifest_backslash = _lines("data/arsip\\..\\..\\..\\laptop\\desk\\sentinel.txt",
                            "data\\arsip\\x.pdf")
manifest_unc = _lines("//server/share/x.pdf", "data///server/share/x.pdf",
                      "\\\\server\\share\\x.pdf")
manifest_control_chars = _lines("data/arsip/a\x00b.pdf", "data/arsip/\x1b[2J\x1b[31mmerah.pdf",
                                "data/arsip/baris\u2028baru.pdf", "data/arsip/bel\x07.pdf")


def manifest_long_line(env: Env) -> None:
    dt.add_manifest_lines(env.disk, [f"{'0' * 64}  data/arsip/{'A' * (20 << 20)}.pdf"])


def manifest_oversized(env: Env) -> None:
    """A manifest of 600 MiB (sparse: no room is used), past the reader's limit."""
    with open(env.disk / "manifest-sha256.txt", "r+b") as fh:
        fh.truncate(600 << 20)


def manifest_duplicates(env: Env) -> None:
    doc = env.doc("biasa", "pengiriman")
    dt.add_manifest_lines(env.disk, [f"{'e' * 64}  data/{doc.stored_path}",
                                     f"{doc.stored_sha256}  data/{doc.stored_path}"])


def manifest_case_twins(env: Env) -> None:
    doc = env.doc("biasa", "pengiriman")
    folder, name = doc.stored_path.rsplit("/", 1)
    twin = f"{folder}/{name.upper()}"
    dt.set_payload(env.disk, twin, b"%PDF-1.4 a twin with other bytes\n")
    env.notes["twin"] = twin


def manifest_overlong_names(env: Env) -> None:
    dt.add_manifest_lines(env.disk, [f"{'0' * 64}  data/arsip/{'n' * 300}.pdf",
                                     f"{'0' * 64}  data/" + "/".join(["d" * 200] * 10)])


def tagmanifest_outside(env: Env) -> None:
    with open(env.disk / "tagmanifest-sha256.txt", "a", encoding="utf-8") as fh:
        fh.write(f"{'0' * 64}  /dev/zero\n{'0' * 64}  ../laptop/desk/sentinel.txt\n"
                 f"{'0' * 64}  data/../../laptop/desk/sentinel.txt\n")


# -- the lists as a run appends to them (s18 P) -------------------------------------------

def lists_appended_garbage(env: Env) -> None:
    """After the lines the office wrote, bytes that are no line (no newline, binary)."""
    with open(env.disk / "brankas-sizes.txt", "ab") as fh:
        fh.write(b"\x00\xff\xfe not a line")
    dt.fix_tags(env.disk)


def lists_truncated(env: Env) -> None:
    """The manifest cut in the middle of its last line (the file shorter than the office
    recorded)."""
    path = env.disk / "manifest-sha256.txt"
    data = path.read_bytes()
    path.write_bytes(data[:len(data) - 30])
    dt.fix_tags(env.disk)


def lists_prefix_altered(env: Env) -> None:
    """The line of a document in the lists' first bytes given another SHA-256, the file's
    length kept (what a length check alone would not see)."""
    doc = env.doc("biasa", "pengiriman")
    path = env.disk / "manifest-sha256.txt"
    data = path.read_bytes()
    line = f"{doc.stored_sha256}  data/{doc.stored_path}\n".encode()
    assert line in data
    path.write_bytes(data.replace(line, f"{'e' * 64}  data/{doc.stored_path}\n".encode()))
    dt.fix_tags(env.disk)


def lists_line_duplicated(env: Env) -> None:
    path = env.disk / "manifest-sha256.txt"
    data = path.read_bytes()
    with open(path, "ab") as fh:
        fh.write(data.split(b"\n", 1)[0] + b"\n")
    dt.fix_tags(env.disk)


def lists_journal_planted_prefix(env: Env) -> None:
    """A journal as an interrupted append leaves one, planted: it records the lists'
    first halves as they are (length and SHA-256), so a cut "back" to them would drop the
    office's own lines of documents that are on the disk."""
    lists = {}
    for name in ("manifest-sha256.txt", "brankas-sizes.txt"):
        data = (env.disk / name).read_bytes()
        half = data[:data.index(b"\n", len(data) // 2) + 1]
        lists[name] = [len(half), dt.sha(half)]
        env.notes[name] = data
    body = {"run": "9", "files": [], "lists": lists}
    (env.disk / ".brankas-staging" / "commit.json").write_text(json.dumps(body))


def lists_not_cut(env: Env, outcomes: dict[str, Any]) -> None:
    """Every line the office wrote is still in the lists (the repair may write them
    whole, in name order)."""
    for name in ("manifest-sha256.txt", "brankas-sizes.txt"):
        now = set((env.disk / name).read_bytes().splitlines())
        lost = set(env.notes[name].splitlines()) - now
        assert not lost, (name, sorted(lost)[:3])


# -- FIFOs, devices and folders where files belong ----------------------------------------

def _fifo(rel: str | Callable[[Env], str]) -> Callable[[Env], None]:
    def prepare(env: Env) -> None:
        dt.replace_with_fifo(env.disk / (rel(env) if callable(rel) else rel))
    return prepare


def _run_file(name: str, index: int = -1) -> Callable[[Env], str]:
    return lambda env: f"data/backup/{dt.run_folders(env.disk)[index]}/{name}"


def device_payload(env: Env) -> None:
    """/dev/zero's twin (a character device, 1:5) in place of a document."""
    path = env.disk / "data" / env.doc("biasa", "penerimaan").stored_path
    path.unlink()
    os.mknod(path, 0o644 | 0o020000, os.makedev(1, 5))


def tag_file_is_folder(env: Env) -> None:
    path = env.disk / "bag-info.txt"
    path.unlink()
    path.mkdir()
    (path / "inside.txt").write_text("a folder where a tag file belongs\n")


def bagit_txt_link(env: Env) -> None:
    shutil.copy(env.disk / "bagit.txt", env.laptop / "desk" / "bagit.txt")
    dt.replace_with_link(env.disk / "bagit.txt", env.laptop / "desk" / "bagit.txt")


# -- links inside data/ -------------------------------------------------------------------

def payload_link_to_laptop(env: Env) -> None:
    """A document replaced by a link to the same bytes on the laptop: hashed through the
    link it would look intact."""
    doc = env.doc("biasa", "pengiriman")
    copy = env.laptop / "arsip-salinan.pdf"
    shutil.copy(env.disk / "data" / doc.stored_path, copy)
    dt.replace_with_link(env.disk / "data" / doc.stored_path, copy)


def data_folder_link(env: Env) -> None:
    """data/backup (where every run writes) a link to a copy of it on the laptop."""
    copy = env.laptop / "backup-salinan"
    shutil.copytree(env.disk / "data" / "backup", copy)
    dt.replace_with_link(env.disk / "data" / "backup", copy)


def data_is_link(env: Env) -> None:
    copy = env.laptop / "data-salinan"
    shutil.copytree(env.disk / "data", copy)
    dt.replace_with_link(env.disk / "data", copy)


def payload_removed(env: Env) -> None:
    """A document the office's records say is on the disk deleted from it, its manifest
    line kept: a no-change backup (which lists the folder rather than taking the
    manifest's word) copies it again."""
    (env.disk / "data" / env.doc("biasa", "pengiriman").stored_path).unlink()


def payload_truncated(env: Env) -> None:
    """A document the records say is on the disk cut to 100 bytes, its manifest line kept:
    a no-change backup checks only that the file is there (no stat or read of 100,000
    files); verify names it."""
    with open(env.disk / "data" / env.doc("biasa", "penerimaan").stored_path, "r+b") as fh:
        fh.truncate(100)


def archive_folder_link(env: Env) -> None:
    """The folder holding a document a link to a copy of it on the laptop: listed through
    the link it would look intact."""
    folder = (env.disk / "data" / env.doc("biasa", "pengiriman").stored_path).parent
    copy = env.laptop / "folder-salinan"
    shutil.copytree(folder, copy)
    dt.replace_with_link(folder, copy)


def drill_dotdot_through_link(env: Env) -> None:
    """The issue's drill attack. ``data/evil`` links to a deep folder on the disk, so on
    the disk ``data/evil/../../../../../<X>`` is the attacker's file ``<X>`` at the disk's
    root; the same path, below the set-aside folder of the instance a key holder's drill
    rebuilds in ``HOME/tmp/drill-*/home``, is ``HOME/<X>``: the live archive."""
    doc = env.doc("biasa", "pengiriman")
    deep = env.disk / ".tersembunyi" / "a" / "b" / "c"
    deep.mkdir(parents=True)
    os.symlink("../.tersembunyi/a/b/c", env.disk / "data" / "evil")
    planted = b"%PDF-1.4 the attacker's version of the document\n"
    attacker_copy = env.disk / ".tersembunyi" / doc.stored_path
    attacker_copy.parent.mkdir(parents=True)
    attacker_copy.write_bytes(planted)
    env.notes["victim"] = env.home / doc.stored_path
    dt.add_manifest_lines(env.disk, [
        f"{dt.sha(planted)}  data/evil/../../../../../{doc.stored_path}",
        f"{dt.sha(planted)}  data/arsip/../../../../../{doc.stored_path}"])


# -- identity and authenticity ------------------------------------------------------------

def medium_from_another_disk(env: Env) -> None:
    """Another office's disk (the attacker's), given this disk's identity file."""
    medium = (env.disk / "brankas-medium.json").read_bytes()
    info = (env.disk / "bag-info.txt").read_text()
    shutil.rmtree(env.disk)
    shutil.copytree(env.templates.attacker.disk, env.disk)
    (env.disk / "brankas-medium.json").write_bytes(medium)
    ours = {k: v for k, v in (line.split(": ", 1) for line in info.splitlines())}
    lines = []
    for line in (env.disk / "bag-info.txt").read_text().splitlines():
        label = line.split(":", 1)[0]
        if label in {"External-Identifier", "Brankas-Medium-Label", "Brankas-Medium-Created"}:
            line = f"{label}: {ours[label]}"
        lines.append(line)
    (env.disk / "bag-info.txt").write_text("\n".join(lines) + "\n")
    dt.fix_tags(env.disk)


def _forged_snapshot(env: Env) -> bytes:
    """The attacker's own snapshot (their instance, their admin), re-encrypted to this
    office's recipients, read from the disk's recipients.txt."""
    from brankas.core import crypto

    attacker = env.templates.attacker
    (theirs,) = (attacker.disk / "data" / "backup").iterdir()
    plain = crypto.decrypt_bytes((theirs / "database.json.age").read_bytes(),
                                 [crypto.parse_identity(attacker.recovery_identity)])
    assert b'"mallory"' in plain
    folder = dt.run_folders(env.disk)[-1]
    text = (env.disk / "data" / "backup" / folder / "recipients.txt").read_text()
    recipients = [line.strip() for line in text.splitlines() if line.startswith("age1")]
    return crypto.encrypt_bytes(plain, recipients)


def forged_snapshot(env: Env) -> None:
    folder = dt.run_folders(env.disk)[-1]
    dt.set_payload(env.disk, f"backup/{folder}/database.json.age", _forged_snapshot(env))


def forged_run_added(env: Env) -> None:
    """The attacker's whole run folder (its own seal, their snapshot re-encrypted to this
    office) added as run 2, the newest."""
    attacker = env.templates.attacker
    (theirs,) = (attacker.disk / "data" / "backup").iterdir()
    forged = _forged_snapshot(env)
    folder = "0002_2026-12-31T235959Z"
    for path in theirs.iterdir():
        data = forged if path.name == "database.json.age" else path.read_bytes()
        dt.set_payload(env.disk, f"backup/{folder}/{path.name}", data)


def older_snapshot_over_newest(env: Env) -> None:
    first, newest = dt.run_folders(env.disk)
    older = (env.disk / "data" / "backup" / first / "database.json.age").read_bytes()
    dt.set_payload(env.disk, f"backup/{newest}/database.json.age", older)


def snapshot_byte_flipped(env: Env) -> None:
    newest = dt.run_folders(env.disk)[-1]
    path = env.disk / "data" / "backup" / newest / "database.json.age"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    dt.set_payload(env.disk, f"backup/{newest}/database.json.age", bytes(data))


def newest_seal_removed(env: Env) -> None:
    newest = dt.run_folders(env.disk)[-1]
    dt.set_payload(env.disk, f"backup/{newest}/segel.json", None)


def seal_foreign_key(env: Env) -> None:
    """The seal's statement, unchanged, signed again with another office's key."""
    from brankas.core.disk import seal as diskseal

    folder = dt.run_folders(env.disk)[-1]
    statement = dt.seal_statement(env.disk, folder)
    statement.pop("format")
    attacker = env.templates.attacker
    key = diskseal.OfficeKey(attacker.office_public, attacker.office_private)
    dt.set_payload(env.disk, f"backup/{folder}/segel.json",
                   diskseal.seal_bytes(statement, key))


def newest_run_removed(env: Env) -> None:
    newest = dt.run_folders(env.disk)[-1]
    shutil.rmtree(env.disk / "data" / "backup" / newest)
    dt.unlist(env.disk, f"backup/{newest}/")
    env.notes["removed"] = newest


def damaged_unregistered(env: Env) -> None:
    rel = "arsip/biasa/penerimaan/2026/M-2026-0777-tanpa-register.pdf"
    dt.set_payload(env.disk, rel, b"%PDF-1.4 damaged on the way\n",
                   listed=dt.sha(b"%PDF-1.4 as it was\n"))
    env.notes["unregistered"] = rel


# -- the disk during a run ----------------------------------------------------------------

def disk_full_mid_run(env: Env) -> None:
    """The disk on a tmpfs with room for the run's small files, not for D5 (300 kB): the
    run fills it part way."""
    from tests.tmpfs import mount_tmpfs

    mnt = env.root / "mnt"
    mount_tmpfs(mnt, "4m")
    env.notes.setdefault("cleanup", []).append(
        lambda: subprocess.run(["umount", str(mnt)], check=False))
    shutil.copytree(env.disk, mnt / "disk", symlinks=True)
    shutil.rmtree(env.disk)
    env.disk = mnt / "disk"
    st = os.statvfs(mnt)
    used = (st.f_blocks - st.f_bfree) * st.f_frsize
    subprocess.run(["mount", "-o", f"remount,size={used + (160 << 10)}", str(mnt)],
                   check=True)


def disk_swapped_mid_run(env: Env) -> None:
    """Another office's disk, ready to take this disk's place (``swap_when_staged``)."""
    env.notes["other"] = env.root / "other-disk"
    shutil.copytree(env.templates.attacker.disk, env.notes["other"])
    env.notes["skip"] = [env.root / "other-disk", env.root / "disk-away"]


def swap_when_staged(env: Env) -> Callable[[int, int, int, int], None]:
    """The backup's progress callback: once every file of the run is staged and read back
    (the moment before the commit writes the journal and the tag files), the disk is
    unplugged and another one takes its mount point."""
    def progress(files_done: int, files_total: int, bytes_done: int, bytes_total: int) -> None:
        other = env.notes["other"]
        if files_total and files_done == files_total and other.exists():
            env.notes["other_before"] = tree_state(other)
            os.rename(env.disk, env.root / "disk-away")
            os.rename(other, env.disk)
    return progress


def seals_and_anchors_stripped(env: Env) -> None:
    """The forged snapshot in place of the newest, every seal and every anchor taken away:
    a disk that looks written before backups were sealed."""
    forged_snapshot(env)
    for folder in dt.run_folders(env.disk):
        dt.set_payload(env.disk, f"backup/{folder}/segel.json", None)
    for anchor in sorted((env.disk / "data" / "keys" / "anchors").iterdir()):
        dt.set_payload(env.disk, f"keys/anchors/{anchor.name}", None)


# -- the audit segments (data/audit/) ------------------------------------------------------

def _segments(env: Env) -> list[str]:
    return sorted(f"audit/{p.name}" for p in (env.disk / "data" / "audit").iterdir())


def _office_recipients(env: Env) -> list[str]:
    folder = dt.run_folders(env.disk)[-1]
    text = (env.disk / "data" / "backup" / folder / "recipients.txt").read_text()
    return [line.strip() for line in text.splitlines() if line.startswith("age1")]


def segment_missing(env: Env) -> None:
    dt.set_payload(env.disk, _segments(env)[0], None)


def segment_truncated(env: Env) -> None:
    newest = _segments(env)[-1]
    data = (env.disk / "data" / newest).read_bytes()
    dt.set_payload(env.disk, newest, data[:len(data) // 2])


def segment_forged(env: Env) -> None:
    """Entries the attacker made up (a chain of their own, hashing as it claims), encrypted
    to the office's recipients, in place of the newest segment."""
    from brankas.core import crypto
    from brankas.core.audit import hashchain

    newest = _segments(env)[-1]
    first = int(newest.split("/")[1].split("-")[0])
    prev, lines = "0" * 64, []
    for seq in range(first, first + 3):
        entry = {"seq": seq, "at": "2026-12-01T00:00:00+00:00", "actor": "mallory",
                 "action": "document.delete", "target": "K-2026-0001", "outcome": "ok",
                 "detail": {}}
        digest = hashchain.entry_hash(prev, entry)
        lines.append(json.dumps({**entry, "prev_hash": prev, "hash": digest}))
        prev = digest
    data = crypto.encrypt_bytes(("\n".join(lines) + "\n").encode(), _office_recipients(env))
    dt.set_payload(env.disk, newest, data)


def segment_from_another_office(env: Env) -> None:
    (theirs,) = (env.templates.attacker.disk / "data" / "audit").iterdir()
    dt.set_payload(env.disk, _segments(env)[0], theirs.read_bytes())


def segments_reordered(env: Env) -> None:
    first, second = _segments(env)
    a, b = ((env.disk / "data" / p).read_bytes() for p in (first, second))
    dt.set_payload(env.disk, first, b)
    dt.set_payload(env.disk, second, a)


def segment_duplicated(env: Env) -> None:
    """The first segment's bytes again, listed under a name covering entries 1-2: a
    reader that took every file would load entries twice."""
    first = _segments(env)[0]
    dt.set_payload(env.disk, "audit/0000000001-0000000002.jsonl.age",
                   (env.disk / "data" / first).read_bytes())


def segment_unsealed_added(env: Env) -> None:
    from brankas.core import crypto

    last = int(_segments(env)[-1].split("-")[1].split(".")[0])
    entry = {"seq": last + 1, "at": "2026-12-01T00:00:00+00:00", "actor": "mallory",
             "action": "document.delete", "target": "K-2026-0001", "outcome": "ok",
             "detail": {}, "prev_hash": "0" * 64, "hash": "0" * 64}
    data = crypto.encrypt_bytes((json.dumps(entry) + "\n").encode(), _office_recipients(env))
    dt.set_payload(env.disk, f"audit/{last + 1:010d}-{last + 1:010d}.jsonl.age", data)


def segment_oversized(env: Env) -> None:
    """The first segment grown to 4 GiB and a byte (sparse: no room is used), past the
    reader's limit; the manifest still lists the sealed bytes."""
    with open(env.disk / "data" / _segments(env)[0], "r+b") as fh:
        fh.truncate((4 << 30) + 1)


def segment_cut_manifest_kept(env: Env) -> None:
    """A backup must not continue from it (and seal a log that leans on it)."""
    path = env.disk / "data" / _segments(env)[-1]
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])


def segment_link_to_laptop(env: Env) -> None:
    first = _segments(env)[0]
    copy = env.laptop / "segmen-salinan.jsonl.age"
    shutil.copy(env.disk / "data" / first, copy)
    dt.replace_with_link(env.disk / "data" / first, copy)


# -- the snapshot journal (s17 N: data/backup/<run>/database-journal.json.age) ------------

def _parts(env: Env) -> list[str]:
    return sorted(f"backup/{p.parent.name}/{p.name}"
                  for p in (env.disk / "data" / "backup").glob("*/database-journal.json.age"))


def journal_part_missing(env: Env) -> None:
    dt.set_payload(env.disk, _parts(env)[0], None)


def journal_parts_reordered(env: Env) -> None:
    first, second = _parts(env)
    a, b = ((env.disk / "data" / p).read_bytes() for p in (first, second))
    dt.set_payload(env.disk, first, b)
    dt.set_payload(env.disk, second, a)


def journal_part_forged(env: Env) -> None:
    """Rows the attacker made up (a document of theirs, the same base and order named),
    encrypted to the office's recipients, in place of the newest part."""
    from brankas.core import crypto

    first, newest = _parts(env)
    named = dt.seal_statement(env.disk, newest.split("/")[1])["snapshot"]
    part = {"format": "brankas-snapshot-journal/1", "base": named["base"],
            "previous": named["journal"][0], "run": newest.split("/")[1],
            "medium_id": dt.seal_statement(env.disk, newest.split("/")[1])["medium_id"],
            "models": [{"model": "documents.Document", "mode": "replace", "after": 0,
                        "objects": []}]}
    data = crypto.encrypt_bytes(json.dumps(part).encode(), _office_recipients(env))
    dt.set_payload(env.disk, newest, data)


def journal_part_from_another_office(env: Env) -> None:
    (theirs,) = (env.templates.attacker.disk / "data" / "backup").glob("*/database.json.age")
    dt.set_payload(env.disk, _parts(env)[-1], theirs.read_bytes())


def journal_part_replayed(env: Env) -> None:
    first, second = _parts(env)
    dt.set_payload(env.disk, second, (env.disk / "data" / first).read_bytes())


def journal_part_oversized(env: Env) -> None:
    with open(env.disk / "data" / _parts(env)[-1], "r+b") as fh:
        fh.truncate((4 << 30) + 1)


def journal_part_link(env: Env) -> None:
    newest = _parts(env)[-1]
    copy = env.laptop / "jurnal-salinan.json.age"
    shutil.copy(env.disk / "data" / newest, copy)
    dt.replace_with_link(env.disk / "data" / newest, copy)


# -- further checks -------------------------------------------------------------------------

def journal_written_whole(env: Env, outcomes: dict[str, Any]) -> None:
    """The backup did not add a part to a chain the disk no longer has as sealed: its seal
    names a whole snapshot of its own, and a recover then uses it."""
    newest = dt.run_folders(env.disk)[-1]
    named = dt.seal_statement(env.disk, newest)["snapshot"]
    assert "journal" not in named and named["folder"] == newest, named
    assert (env.disk / "data" / "backup" / newest / "database.json.age").is_file()
    r = _cli(env, "recover", str(env.disk), "--home", str(env.out / "after-backup"),
             "--identity", str(env.recovery_file), "--json", user=None)
    assert r.report is not None and r.report["snapshot_run"] == newest, r
    assert r.report["authenticated"] is True and r.report["restored"] == len(env.docs) + 1, r


def journal_older_chain_when_asked(env: Env, outcomes: dict[str, Any]) -> None:
    """(s17 review) With ``--allow-older``, recover takes the chain the run before sealed
    (the base and the first part), not the base alone."""
    first, newest = (p.split("/")[1] for p in _parts(env))
    r = _cli(env, "recover", str(env.disk), "--home", str(env.out / "older-chain"),
             "--identity", str(env.recovery_file), "--allow-older", "--json", user=None)
    assert r.report is not None and r.report["snapshot_run"] == first, r
    assert any(line.startswith(newest) for line in r.report["passed_over"]), r


def _cli(env: Env, *args: str, user: str | None = "operator") -> Any:
    return run_cli(env.home, env.scratch, *args, user=user, disk=env.disk)


def home_database_kept(env: Env, outcomes: dict[str, Any]) -> None:
    assert (env.home / "brankas.sqlite3").is_file()
    assert (env.home / "arsip").is_dir()


def strangers_kept(env: Env, outcomes: dict[str, Any]) -> None:
    staging = env.disk / ".brankas-staging"
    assert (staging / "catatan-penting.docx").read_bytes() == b"someone's notes"
    assert (staging / "folder-lain" / "x.txt").is_file()


def journal_not_followed(env: Env, outcomes: dict[str, Any]) -> None:
    listed = dt.read_pairs(env.disk / "manifest-sha256.txt")
    assert not [p for p in listed if "planted" in p or "dicuri" in p], listed
    assert [p.name for p in (env.disk / ".brankas-staging").iterdir()] == ["lock"]


def problems_bounded(env: Env, outcomes: dict[str, Any]) -> None:
    """A 20 MB line is not stored whole: not in the output, not in the database."""
    assert len(outcomes["verify"].text) < 64 << 10
    import sqlite3

    con = sqlite3.connect(env.home / "brankas.sqlite3")
    try:
        longest = con.execute("select max(length(problems)) from backup_mediumcheck").fetchone()
    finally:
        con.close()
    assert longest[0] is not None and longest[0] < 64 << 10, longest


def fresh_snapshot_written(env: Env, outcomes: dict[str, Any]) -> None:
    """The backup did not take the disk's (tampered) snapshot for the one the office
    sealed: its run carries a snapshot of its own, which a recover then uses."""
    newest = dt.run_folders(env.disk)[-1]
    statement = dt.seal_statement(env.disk, newest)
    assert statement["snapshot"]["folder"] == newest, statement["snapshot"]
    assert (env.disk / "data" / "backup" / newest / "database.json.age").is_file()


def recovers_from_the_new_run(env: Env, outcomes: dict[str, Any]) -> None:
    fresh_snapshot_written(env, outcomes)
    newest = dt.run_folders(env.disk)[-1]
    r = _cli(env, "recover", str(env.disk), "--home", str(env.out / "after-backup"),
             "--identity", str(env.recovery_file), "--json", user=None)
    assert r.report is not None and r.report["snapshot_run"] == newest, r
    assert r.report["authenticated"] is True and r.report["restored"] == len(env.docs), r


def older_only_when_asked(env: Env, outcomes: dict[str, Any]) -> None:
    r = _cli(env, "recover", str(env.disk), "--home", str(env.out / "older"), "--identity",
             str(env.recovery_file), "--allow-older", "--json", user=None)
    run1, run2 = env.notes["runs"]
    assert r.report is not None and r.report["snapshot_run"] == run1, r
    assert any(line.startswith(run2) for line in r.report["passed_over"]), r
    assert r.report["unregistered"] == [env.templates.d5.stored_path], r


def recovered_home_made(env: Env, outcomes: dict[str, Any]) -> None:
    new = env.out / "new-cli"
    assert (new / "brankas.sqlite3").is_file()
    assert not (new / "dipulihkan-tanpa-register" / env.notes["unregistered"]).exists()


def removed_copied_again(env: Env, outcomes: dict[str, Any]) -> None:
    doc = env.doc("biasa", "pengiriman")
    path = env.disk / "data" / doc.stored_path
    assert path.is_file() and dt.sha(path.read_bytes()) == doc.stored_sha256


def full_disk_left_sound(env: Env, outcomes: dict[str, Any]) -> None:
    r = _cli(env, "verify", str(env.disk), "--json")
    assert r.exit == 0, r


def other_disk_untouched(env: Env, outcomes: dict[str, Any]) -> None:
    """Nothing of the run reached the disk that took the mount point; the disk that was
    pulled still verifies, and a later run completes it wherever it is mounted."""
    assert "other_before" in env.notes, "the disk was not swapped"
    written = tree_diff(env.notes["other_before"], tree_state(env.disk))
    assert written == [], f"the run wrote to the disk that took the place of its own: {written}"
    away = env.root / "disk-away"
    r = _cli(env, "verify", str(away), "--json")
    assert r.exit == 0, r
    r = _cli(env, "verify", str(env.disk), "--json")
    assert r.exit == 1 and "sealed by a key that is not this office's" in r.text, r
    r = _cli(env, "backup", str(away), "--json")
    assert r.exit == 0 and r.report["medium"]["label"] == "DISK-01", r


def segments_written_anew(env: Env, outcomes: dict[str, Any]) -> None:
    """The backup did not continue from segments the disk no longer has as sealed: its
    seal names one new segment holding the whole log, and a recover then uses it."""
    newest = dt.run_folders(env.disk)[-1]
    listed = dt.seal_statement(env.disk, newest)["audit_segments"]["segments"]
    assert len(listed) == 1 and listed[0][1] == 1, listed
    r = _cli(env, "recover", str(env.disk), "--home", str(env.out / "after-backup"),
             "--identity", str(env.recovery_file), "--json", user=None)
    assert r.report is not None and r.report["audit_ok"] is True, r


# -- the corpus -----------------------------------------------------------------------------

R = "recover"
OK = ok()
INTACT = ok('"ok": true')


def _stranger(name: str) -> dict[str, Expect]:
    """The staging folder or the lock is not what Brankas made: backup refuses, having
    touched nothing; verify and the drill name it; the others do not use staging."""
    return {"backup": refused("backup_staging_foreign", name),
            "verify": problems(f"{name}: not made by Brankas"),
            "drill": problems(f"{name}: not made by Brankas"), "restore": OK, R: OK}


def _bad_line(*named: str, absent: tuple[str, ...] = ()) -> dict[str, Expect]:
    """Unsafe manifest lines: each named by verify, the drill, restore and recover (never
    used; the rest of the disk is); backup refuses the disk as damaged, naming the first."""
    return {"backup": Expect(1, "backup_bag_invalid", named[:1], absent),
            "verify": problems(*named, absent=absent), "drill": problems(*named, absent=absent),
            R: problems(*named, absent=absent), "restore": problems(*named, absent=absent)}


def _everywhere(code: str, *named: str) -> dict[str, Expect]:
    return {op: refused(code, *named) for op in ("backup", "verify", "restore", "drill", R)}


def _tag_problem(name: str, *named: str) -> dict[str, Expect]:
    """A tag file that cannot be used: verify and the drill name it, backup refuses the
    disk naming it; restore and recover do not read it."""
    return {"backup": refused("disk_not_regular", name), "verify": problems(name, *named),
            "drill": problems(name, *named), "restore": OK, R: OK}


def _unusable_document(kind: str, agenda: str = "{bp}") -> dict[str, Expect]:
    """A document that is not a regular file: changed for verify, damaged for restore,
    the drill and recover, never read; backup, which does not take the manifest's word
    that a file it would skip is there, refuses the disk (verify it, use another)."""
    return {"verify": problems(f'"reason": "{kind}"', absent=('"ok": true',)),
            "restore": problems(agenda), "drill": problems(agenda), R: problems(agenda),
            "backup": refused("backup_disk_file_wrong")}


def _segment(*named: str, recover: Expect | None = None, **extra: Expect) -> dict[str, Expect]:
    """An audit segment not as the office sealed it: verify names it, recover refuses
    (``recover_audit_unusable``: nothing is recovered), the drill (a recover) fails;
    restore (documents by the register) is not concerned; backup writes the log anew."""
    return {"verify": problems(*named), "drill": problems("audit"),
            R: recover or refused("recover_audit_unusable", *named), "restore": OK,
            "backup": OK, **extra}
def _named_by_readers(agenda: str) -> dict[str, Expect]:
    """A document damaged on the disk: verify, restore, the drill and recover name it."""
    return {op: problems(agenda) for op in ("verify", "restore", "drill", R)}


def _unsealed(*named: str, recover: Expect, **extra: Expect) -> dict[str, Expect]:
    """What the office's seals say is wrong: verify names it, the drill fails, recover
    refuses or passes over it; restore (documents by the register) is not concerned;
    backup goes on while the disk still carries one run the office sealed on it (a disk
    with none is refused as unproven, ``check_disk_is``)."""
    return {"verify": problems(*named), "drill": problems(*named), R: recover,
            "restore": OK, "backup": OK, **extra}


CASES = [
    Case("staging_link_to_laptop", staging_link_to_laptop, _stranger(".brankas-staging"),
         frozenset({"backup"})),
    Case("staging_link_to_office_home", staging_link_to_office_home,
         _stranger(".brankas-staging"), frozenset({"backup"}),
         after={"backup": home_database_kept}),
    Case("staging_strangers", staging_strangers,
         {**_stranger(".brankas-staging/catatan-penting.docx"),
          "verify": problems(".brankas-staging/catatan-penting.docx: not made by Brankas",
                             ".brankas-staging/folder-lain: not made by Brankas")},
         frozenset({"backup"}), after={"backup": strangers_kept}),
    Case("lock_link", lock_link, _stranger(".brankas-staging/lock"), frozenset({"backup"})),
    Case("lock_fifo", lock_fifo, _stranger(".brankas-staging/lock"), frozenset({"backup"})),
    Case("journal_paths_outside", journal_paths_outside,
         {op: INTACT for op in ("verify", "drill", R, "restore")} | {"backup": OK},
         frozenset({"backup"}), after={"backup": journal_not_followed}),
    Case("journal_staged_name_slash", journal_staged_name_slash,
         {op: INTACT for op in ("verify", "drill", R, "restore")} | {"backup": OK},
         frozenset({"backup"}), after={"backup": journal_not_followed}),
    Case("manifest_dotdot", manifest_dotdot,
         _bad_line("data/arsip/../../../laptop/desk/sentinel.txt", "'..' component"),
         frozenset({"verify", R})),
    Case("manifest_absolute", manifest_absolute, _bad_line("not under data/"),
         frozenset({"verify", R})),
    Case("manifest_drive_letter", manifest_drive_letter,
         _bad_line("C:/x: not under data/", "a colon (drive letter or NTFS stream)"),
         frozenset({"verify"})),
    Case("manifest_backslash", manifest_backslash,
         _bad_line("a bad line for data/arsip", "a backslash"),
         frozenset({"verify"})),
    Case("manifest_unc", manifest_unc,
         _bad_line("//server/share/x.pdf: not under data/", "data///server"),
         frozenset({"verify"})),
    Case("manifest_control_chars", manifest_control_chars,
         _bad_line("a control character", "merah.pdf", "baris",
                   absent=("\x1b", "\x00", "\x07", "\u2028")),
         frozenset({"verify", "backup"})),
    Case("manifest_long_line", manifest_long_line, _bad_line("is too long"),
         frozenset({"verify"}), after={"backup": problems_bounded}),
    Case("manifest_oversized", manifest_oversized,
         _everywhere("disk_file_too_large", "manifest-sha256.txt"), frozenset({"verify"})),
    Case("manifest_duplicates", manifest_duplicates, _bad_line("twice"),
         frozenset({"verify"})),
    Case("manifest_case_twins", manifest_case_twins,
         {"verify": problems("one file on exFAT/NTFS"), "drill": problems("exFAT/NTFS"),
          R: ok("LAPORAN-BULANAN"), "restore": OK, "backup": OK}, frozenset({"verify"})),
    Case("manifest_overlong_names", manifest_overlong_names,
         _bad_line("a name longer than 255 characters", "longer than 1024"),
         frozenset({"verify"})),
    # s18 P: the lists grow at their end; the office trusts only the bytes it recorded.
    Case("lists_appended_garbage", lists_appended_garbage,
         {"backup": refused("backup_bag_invalid", "brankas-sizes.txt is not UTF-8 text"),
          "verify": problems("brankas-sizes.txt is not UTF-8 text"),
          "drill": problems("brankas-sizes.txt is not UTF-8 text"), "restore": OK, R: OK},
         frozenset({"backup", "verify"})),
    Case("lists_truncated", lists_truncated,
         {"backup": refused("backup_disk_unproven", "carries none of the runs"),
          "verify": problems("carries none of the runs the office sealed"),
          "drill": problems("carries none of the runs the office sealed"),
          "restore": OK, R: refused("recover_not_sealed")},
         frozenset({"backup", "verify"})),
    Case("lists_prefix_altered", lists_prefix_altered,
         {"backup": refused("backup_path_conflict", "{bk}"),
          "verify": problems("{bk}: data/arsip", "is listed with another SHA-256"),
          "drill": problems("{bk}"), "restore": problems("{bk}"), R: problems("{bk}")},
         frozenset({"backup", "verify"})),
    Case("lists_line_duplicated", lists_line_duplicated, _bad_line("twice"),
         frozenset({"backup", "verify"})),
    Case("lists_journal_planted_prefix", lists_journal_planted_prefix,
         {op: INTACT for op in ("verify", "drill", R, "restore")} | {"backup": OK},
         frozenset({"backup"}), after={"backup": lists_not_cut}),
    Case("tagmanifest_outside", tagmanifest_outside,
         {"verify": problems("names /dev/zero, not a tag file",
                             "names ../laptop/desk/sentinel.txt, not a tag file"),
          "drill": problems("/dev/zero"), "restore": OK, R: OK, "backup": OK},
         frozenset({"verify"})),
    Case("fifo_manifest", _fifo("manifest-sha256.txt"),
         _everywhere("disk_not_regular", "manifest-sha256.txt", "(fifo)"),
         frozenset({"verify", "backup", "restore", "drill", R})),
    Case("fifo_bag_info", _fifo("bag-info.txt"), _tag_problem("bag-info.txt", "(fifo)"),
         frozenset({"verify", "backup"})),
    Case("fifo_medium", _fifo("brankas-medium.json"),
         {**_everywhere("disk_not_regular", "brankas-medium.json", "(fifo)"),
          "verify": problems("brankas-medium.json", "(fifo)")},
         frozenset({"verify", "restore", R})),
    Case("fifo_guide", _fifo("RESTORE-GUIDE.txt"), _tag_problem("RESTORE-GUIDE.txt", "(fifo)"),
         frozenset({"verify", "backup"})),
    Case("fifo_payload", _fifo(lambda env: "data/" + env.doc("biasa", "penerimaan").stored_path),
         _unusable_document("fifo"), frozenset({"verify", "restore"})),
    Case("fifo_seal", _fifo(_run_file("segel.json")),
         _unsealed("its seal cannot be read", recover=refused("recover_not_sealed"),
                   backup=refused("backup_disk_unproven")),
         frozenset({"verify", "backup"})),
    Case("device_payload", device_payload, _unusable_document("device"),
         frozenset({"verify", "drill"}), needs_root=True),
    Case("tag_file_is_folder", tag_file_is_folder,
         {**_tag_problem("bag-info.txt", "(dir)"),
          "backup": Expect(1, "disk_not_regular", ("bag-info.txt", "(dir)"),
                           ("cannot write",))}, frozenset({"backup"})),
    Case("bagit_txt_link", bagit_txt_link,
         {"backup": refused("disk_link", "bagit.txt"), "verify": problems("bagit.txt", "link"),
          "restore": refused("backup_not_brankas"), "drill": refused("backup_not_brankas"),
          R: refused("backup_not_brankas")}, frozenset({"backup"})),
    Case("payload_link_to_laptop", payload_link_to_laptop, _unusable_document("link", "{bk}"),
         frozenset({"verify", "restore"})),
    Case("data_folder_link", data_folder_link,
         {"backup": refused("backup_disk_unproven"),
          "verify": problems("backup (a link (not followed))"),
          "drill": problems("backup (a link (not followed))"),
          "restore": OK, R: refused("recover_not_sealed")},
         frozenset({"backup"}), backup_may_write=True),
    Case("data_is_link", data_is_link,
         {"backup": refused("disk_link", "data"), "verify": problems("data: a link"),
          "drill": problems("data: a link"), "restore": problems("{bk}"),
          R: refused("recover_no_anchor")}, frozenset({"backup", "verify"})),
    Case("drill_dotdot_through_link", drill_dotdot_through_link,
         {**_bad_line("data/evil/../../../../../arsip"),
          "verify": problems("evil (a link (not followed))", "data/evil/../../../../../arsip")},
         frozenset({"drill", R}), drill_as_holder=True),
    Case("medium_from_another_disk", medium_from_another_disk,
         {"verify": problems("cannot prove it is that disk",
                             "sealed by a key that is not this office's",
                             "recorded as on this disk, but"),
          "drill": problems("cannot prove it is that disk"), "restore": problems("{bk}"),
          R: refused("recover_no_anchor"), "backup": refused("backup_disk_unproven")},
         frozenset({"verify", "backup"})),
    Case("forged_snapshot", forged_snapshot,
         _unsealed("database.json.age is not what the office sealed",
                   recover=refused("recover_newest_unusable", "{run1}")),
         frozenset({"verify", R, "backup"}), after={"backup": recovers_from_the_new_run}),
    Case("forged_run_added", forged_run_added,
         _unsealed("sealed by a key that is not this office's",
                   recover=refused("recover_newest_unusable", "0002_2026-12-31T235959Z",
                                   "not sealed by the office")),
         frozenset({R})),
    Case("older_snapshot_over_newest", older_snapshot_over_newest,
         _unsealed("database.json.age is not what the office sealed",
                   recover=refused("recover_newest_unusable", "{run2}", "{d5}")),
         frozenset({R}), base="two", after={R: older_only_when_asked}),
    Case("snapshot_byte_flipped", snapshot_byte_flipped,
         _unsealed("database.json.age is not what the office sealed",
                   recover=refused("recover_newest_unusable", "{run2}", "{d5}")),
         frozenset({R}), base="two", after={"backup": fresh_snapshot_written}),
    Case("newest_seal_removed", newest_seal_removed,
         _unsealed("{run2}: recorded as sealed on this disk",
                   recover=refused("recover_newest_unusable", "{run2}",
                                   "not sealed by the office")),
         frozenset({R}), base="two", after={"backup": fresh_snapshot_written}),
    Case("seal_foreign_key", seal_foreign_key,
         _unsealed("sealed by a key that is not this office's",
                   recover=refused("recover_not_sealed"),
                   backup=refused("backup_disk_unproven")),
         frozenset({R})),
    Case("seals_and_anchors_stripped", seals_and_anchors_stripped,
         _unsealed("cannot prove it is that disk", recover=refused("recover_no_anchor"),
                   backup=refused("backup_disk_unproven")),
         frozenset({R})),
    Case("newest_run_removed", newest_run_removed,
         {**_unsealed("{run2}: recorded as sealed on this disk, but its sealed folder is not "
                      "here", recover=problems(
                          '"snapshot_run": "{run1}"', '"newest_sealed_run": "{run1}"', "{d5}",
                          # run 2's audit segment stays: named, not used
                          "not an audit segment the office sealed")),
          "restore": OK}, frozenset({"verify", R}), base="two"),
    Case("damaged_unregistered", damaged_unregistered,
         {"verify": problems('"reason": "sha256"', "M-2026-0777"),
          "drill": problems("M-2026-0777"),
          R: problems('"unregistered_damaged"', "M-2026-0777-tanpa-register.pdf"),
          "restore": OK, "backup": OK}, frozenset({R}), after={"backup": recovered_home_made}),
    Case("disk_full_mid_run", disk_full_mid_run,
         {"backup": refused("backup_disk_full"), "verify": INTACT, "drill": INTACT, R: INTACT,
          "restore": problems("{d5}")}, frozenset({"backup"}), base="pending",
         needs_root=True, backup_may_write=True, after={"backup": full_disk_left_sound}),
    Case("disk_swapped_mid_run", disk_swapped_mid_run,
         {"backup": refused("backup_disk_replaced"), "verify": INTACT, "drill": INTACT, R: INTACT,
          "restore": problems("{d5}")}, frozenset(), base="pending",
         backup_progress=swap_when_staged, backup_may_write=True,
         after={"backup": other_disk_untouched}),
    Case("segment_missing", segment_missing, _segment("is missing (audit entries 1-"),
         frozenset({"verify", R, "backup"}), base="two",
         after={"backup": segments_written_anew}),
    Case("segment_truncated", segment_truncated, _segment("is not what the office sealed"),
         frozenset({R}), base="two"),
    Case("segment_forged", segment_forged, _segment("is not what the office sealed"),
         frozenset({R}), base="two", after={"backup": segments_written_anew}),
    Case("segment_from_another_office", segment_from_another_office,
         _segment("is not what the office sealed"), frozenset({R}), base="two"),
    Case("segments_reordered", segments_reordered, _segment("is not what the office sealed"),
         frozenset({R}), base="two"),
    Case("segment_duplicated", segment_duplicated,
         _segment("0000000001-0000000002.jsonl.age: not an audit segment the office sealed",
                  recover=problems("not an audit segment the office sealed")),
         frozenset({"verify", R}), base="two"),
    Case("segment_unsealed_added", segment_unsealed_added,
         _segment("not an audit segment the office sealed",
                  recover=problems("not an audit segment the office sealed")),
         frozenset({R}), base="two"),
    Case("segment_oversized", segment_oversized,
         _segment('"reason": "size"', recover=refused("recover_audit_unusable", "is larger than")),
         frozenset({R}), base="two"),
    Case("segment_cut_manifest_kept", segment_cut_manifest_kept,
         _segment('"reason": "size"', recover=refused("recover_audit_unusable", "is damaged")),
         frozenset({R, "backup"}), base="two", after={"backup": segments_written_anew}),
    Case("segment_link_to_laptop", segment_link_to_laptop,
         _segment('"reason": "link"', recover=refused("recover_audit_unusable", "link")),
         frozenset({R}), base="two"),
    # s16 B: the no-change backup's folder listing (what it checks; the rest is verify's).
    Case("payload_removed", payload_removed,
         {"backup": OK, **_named_by_readers("{bk}")}, frozenset({"backup"}),
         after={"backup": removed_copied_again}),
    Case("payload_truncated", payload_truncated,
         {"backup": OK, **_named_by_readers("{bp}")}, frozenset({"backup"})),
    Case("archive_folder_link", archive_folder_link,
         {"backup": refused("backup_disk_file_wrong", "is a link"),
          **_named_by_readers("{bk}"),
          "verify": problems("{bk}", "2026 (a link (not followed))")}, frozenset({"backup"})),
    # s17 N: the snapshot journal. A part not as the office sealed it: verify and the drill
    # name it, recover refuses the newest snapshot (naming what an older one would lose),
    # restore (documents by the register) is not concerned, backup writes a whole snapshot.
    Case("journal_part_missing", journal_part_missing,
         _unsealed("database-journal.json.age is missing",
                   recover=refused("recover_newest_unusable", "database-journal.json.age")),
         frozenset({"verify", R, "backup"}), base="journal",
         after={"backup": journal_written_whole}),
    Case("journal_parts_reordered", journal_parts_reordered,
         _unsealed("database-journal.json.age is not what the office sealed",
                   recover=refused("recover_newest_unusable", "database-journal.json.age")),
         frozenset({R}), base="journal"),
    Case("journal_part_forged", journal_part_forged,
         _unsealed("database-journal.json.age is not what the office sealed",
                   recover=refused("recover_newest_unusable", "database-journal.json.age")),
         frozenset({R, "backup"}), base="journal", after={"backup": journal_written_whole}),
    Case("journal_part_from_another_office", journal_part_from_another_office,
         _unsealed("database-journal.json.age is not what the office sealed",
                   recover=refused("recover_newest_unusable", "database-journal.json.age")),
         frozenset({R}), base="journal"),
    Case("journal_part_replayed", journal_part_replayed,
         _unsealed("database-journal.json.age is not what the office sealed",
                   recover=refused("recover_newest_unusable", "database-journal.json.age")),
         frozenset({R}), base="journal", after={R: journal_older_chain_when_asked}),
    Case("journal_part_oversized", journal_part_oversized,
         {**_unsealed('"reason": "size"', recover=refused("recover_newest_unusable")),
          "drill": problems("database-journal.json.age")},
         frozenset({R, "backup"}), base="journal", after={"backup": journal_written_whole}),
    Case("journal_part_link", journal_part_link,
         {**_unsealed('"reason": "link"', recover=refused("recover_newest_unusable")),
          "drill": problems("database-journal.json.age")},
         frozenset({R}), base="journal"),
]

# Prepared with symbolic links, FIFOs or devices, or two names one letter case apart:
# POSIX only (Windows needs a privilege for links, has no FIFOs and folds case; its
# reparse points are refused by the same disk.fs code).
_POSIX = {"manifest_case_twins", "staging_link_to_laptop", "staging_link_to_office_home",
          "lock_link", "lock_fifo",
          "fifo_manifest", "fifo_bag_info", "fifo_medium", "fifo_guide", "fifo_payload",
          "fifo_seal", "device_payload", "bagit_txt_link", "payload_link_to_laptop",
          "data_folder_link", "data_is_link", "drill_dotdot_through_link",
          "disk_full_mid_run", "segment_link_to_laptop", "archive_folder_link"}
CASES = [replace(c, posix_only=c.id in _POSIX) for c in CASES]
assert {c.id for c in CASES} >= _POSIX


def outcome_table() -> str:
    """The corpus as the Markdown table in docs/security.md (checked by a test): per case
    and operation, the refusal's code, "named" (exit 1, the problem named in the output)
    or "ok"; ᶜ marks the operations run through the real command."""
    ops = ("backup", "verify", "restore", "recover", "drill")

    def cell(case: Case, op: str) -> str:
        expect = case.expect[op]
        text = f"`{expect.code}`" if expect.code else ("ok" if expect.exit == 0 else "named")
        return text + (" ᶜ" if op in case.cli else "")

    rows = ["| case | " + " | ".join(ops) + " |", "|---|" + "---|" * len(ops)]
    rows += [f"| `{c.id}` | " + " | ".join(cell(c, op) for op in ops) + " |" for c in CASES]
    return "\n".join(rows) + "\n"
