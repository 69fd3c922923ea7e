"""What an attacker who holds a backup disk for an hour does to it: edit the manifests and
fix every checksum they can (the payload manifest, the size list, Payload-Oxum, the tag
manifest), plant links, FIFOs and devices, swap files. Plain file operations only: the
attacker has no Brankas of the victim's, only the disk (and, for a forgery, an instance
of their own)."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

TAG_FILES = ("bagit.txt", "bag-info.txt", "manifest-sha256.txt", "brankas-sizes.txt",
             "brankas-medium.json", "PANDUAN-PEMULIHAN.txt", "RESTORE-GUIDE.txt")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_pairs(path: Path) -> dict[str, str]:
    """A manifest-like file as {bag path: value} (well-formed lines only)."""
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            value, name = line.split(maxsplit=1)
            out[name] = value
    return out


def write_pairs(path: Path, pairs: dict[str, str], extra: list[str] = ()) -> None:  # type: ignore[assignment]
    lines = [f"{pairs[name]}  {name}\n" for name in sorted(pairs)] + [x + "\n" for x in extra]
    path.write_bytes("".join(lines).encode("utf-8", "surrogateescape"))


def oxum(disk: Path) -> str:
    """Payload-Oxum as verify counts it: every entry in data/ that is not a real folder."""
    total = count = 0
    for folder, dirs, files in os.walk(disk / "data"):
        for name in dirs + files:
            st = os.lstat(Path(folder) / name)
            if not stat.S_ISDIR(st.st_mode):
                total += st.st_size
                count += 1
    return f"{total}.{count}"


def fix_tags(disk: Path, *, oxum_too: bool = True) -> None:
    """Make bag-info's Payload-Oxum match data/ and the tag manifest match every tag file
    that is a regular file: what an attacker does after editing the disk."""
    info = disk / "bag-info.txt"
    if oxum_too and info.is_file() and not info.is_symlink():
        lines = [f"Payload-Oxum: {oxum(disk)}" if line.startswith("Payload-Oxum:") else line
                 for line in info.read_text(encoding="utf-8").splitlines()]
        info.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tags = {}
    for name in TAG_FILES:
        path = disk / name
        if path.is_file() and not path.is_symlink() and stat.S_ISREG(os.lstat(path).st_mode):
            tags[name] = sha(path.read_bytes())
    write_pairs(disk / "tagmanifest-sha256.txt", tags)


def set_payload(disk: Path, rel: str, data: bytes | None, *, listed: str | None = None) -> None:
    """Write ``data/rel`` (None: remove it) and list it in the manifests with the SHA-256
    of ``data`` (or ``listed``), then fix the tags."""
    path = disk / "data" / rel
    manifest = read_pairs(disk / "manifest-sha256.txt")
    sizes = read_pairs(disk / "brankas-sizes.txt")
    if data is None:
        path.unlink()
        manifest.pop(f"data/{rel}", None)
        sizes.pop(f"data/{rel}", None)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        manifest[f"data/{rel}"] = listed or sha(data)
        sizes[f"data/{rel}"] = str(len(data))
    write_pairs(disk / "manifest-sha256.txt", manifest)
    write_pairs(disk / "brankas-sizes.txt", sizes)
    fix_tags(disk)


def unlist(disk: Path, prefix: str) -> None:
    """Take every manifest and size line under ``data/prefix`` out, then fix the tags."""
    for name in ("manifest-sha256.txt", "brankas-sizes.txt"):
        pairs = read_pairs(disk / name)
        write_pairs(disk / name, {k: v for k, v in pairs.items()
                                  if not k.startswith(f"data/{prefix}")})
    fix_tags(disk)


def add_manifest_lines(disk: Path, lines: list[str]) -> None:
    """Append raw lines to the payload manifest (no check at all), then fix the tags."""
    path = disk / "manifest-sha256.txt"
    with open(path, "ab") as fh:
        for line in lines:
            fh.write(line.encode("utf-8", "surrogateescape") + b"\n")
    fix_tags(disk)


def run_folders(disk: Path) -> list[str]:
    return sorted(p.name for p in (disk / "data" / "backup").iterdir())


def replace_with_fifo(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        raise ValueError(path)
    path.unlink()
    os.mkfifo(path)


def replace_with_link(path: Path, target: Path | str) -> None:
    if path.is_dir() and not path.is_symlink():
        import shutil

        shutil.rmtree(path)
    elif os.path.lexists(path):
        path.unlink()
    os.symlink(target, path)


def seal_statement(disk: Path, folder: str) -> dict:  # type: ignore[type-arg]
    from brankas.core.disk import fs as diskfs

    # Through disk.fs: a test helper must not block on a FIFO the case put there.
    body = json.loads(diskfs.read_file(disk, f"data/backup/{folder}/segel.json",
                                       limit=1 << 20))
    return json.loads(body["statement"])
