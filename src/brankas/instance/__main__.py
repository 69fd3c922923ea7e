"""The instance service as a process of its own (not the ``brankas`` command):

``python -m brankas.instance recover DEST --home NEW [--fingerprint F] [--identity-stdin]
[--allow-older] [--allow-unsigned] [--progress]``, or ``recover --from-offsite s3://BUCKET[/PREFIX]
--endpoint URL [--region R] [--credentials-file F] --home NEW [--identity-stdin] [--progress]``
    what the drill and the first-run recover page run to rebuild an instance in its own
    process: the key holder's passphrase comes from ``BRANKAS_PASSPHRASE``, or with
    ``--identity-stdin`` the office recovery identity (a drill with recovery shares
    rebuilds it) from standard input,
    never a file or the environment; prints the report as one JSON object;
    exit 0 whole and believed, 1 problems found or refused (``brankas: <why>`` on stderr).
    The second form rebuilds from the offsite copy (``brankas recover --from-offsite``).
    With ``--progress``, progress lines (``PROGRESS_PREFIX`` and four counts) on stderr.

``python -m brankas.instance manage COMMAND [ARGS...]``
    a Django management command on the prepared home of ``BRANKAS_HOME`` (for instance
    ``check --deploy``): the ``manage.py`` of Brankas.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from brankas.core import fsutil
from brankas.core.errors import BrankasError


def _recover(argv: list[str]) -> int:
    from brankas import instance

    parser = argparse.ArgumentParser(prog="python -m brankas.instance recover")
    parser.add_argument("dest", nargs="?", default=None)
    parser.add_argument("--home", required=True)
    parser.add_argument("--from-offsite", default=None)
    parser.add_argument("--endpoint", default=None)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--credentials-file", default=None)
    parser.add_argument("--fingerprint", default=None)
    parser.add_argument("--identity-stdin", action="store_true")
    parser.add_argument("--allow-older", action="store_true")
    parser.add_argument("--allow-unsigned", action="store_true")
    parser.add_argument("--progress", action="store_true")
    args = parser.parse_args(argv)
    if (args.dest is None) == (args.from_offsite is None) or (
            args.from_offsite is not None) != (args.endpoint is not None):
        parser.error("DEST, or --from-offsite URL --endpoint URL")
    instance.tie_to_parent()

    def progress(files_done: int, files_total: int, bytes_done: int, bytes_total: int) -> None:
        print(instance.PROGRESS_PREFIX, files_done, files_total, bytes_done, bytes_total,
              file=sys.stderr, flush=True)

    identity_text = sys.stdin.read() if args.identity_stdin else None
    passphrase = None if args.identity_stdin else os.environ.get("BRANKAS_PASSPHRASE")
    if args.from_offsite is not None:
        from brankas.instance.offsite import recover_from_offsite

        report = recover_from_offsite(
            url=args.from_offsite, endpoint=args.endpoint, home=args.home, region=args.region,
            credentials_file=args.credentials_file, passphrase=passphrase,
            identity_text=identity_text, on_progress=progress if args.progress else None)
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2, default=str))
        return 0 if report.ok else 1
    source = instance.recover_source(dest=args.dest, home=args.home)
    options: dict[str, Any] = {"fingerprint": args.fingerprint, "allow_older": args.allow_older,
               "allow_unsigned": args.allow_unsigned,
               "on_progress": progress if args.progress else None}
    report = instance.recover(source, identity_text=identity_text, passphrase=passphrase,
                              **options)
    print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2, default=str))
    return 0 if report.ok else 1


def _manage(argv: list[str]) -> int:
    from django.core.management import execute_from_command_line

    from brankas import instance

    instance.start()
    execute_from_command_line(["python -m brankas.instance manage", *argv])
    return 0


def main(argv: list[str]) -> int:
    fsutil.private_umask()  # what the process creates is private, as with `brankas`
    commands = {"recover": _recover, "manage": _manage}
    if not argv or argv[0] not in commands:
        print("usage: python -m brankas.instance {recover,manage} ...", file=sys.stderr)
        return 2
    try:
        return commands[argv[0]](argv[1:])
    except BrankasError as exc:
        print(f"brankas: {exc.message()}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("brankas: dibatalkan / interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
