"""A fresh Brankas instance set up through the real CLI, as an office would.

``init`` (admin and office recovery key), ``user add`` for a Sandiman (who registers and
imports) and a Kabid (a key holder), ``key new`` for the Kabid: exempted documents are
then encrypted to two recipients, the Kabid and the office recovery key.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from bench import proc

PASSWORDS = {
    "admin": "Bench-Admin-Pass-2026!",
    "operator": "Bench-Sandiman-Pass-2026!",
    "kabid": "Bench-Kabid-Pass-2026!",
}
KABID_PASSPHRASE = "kuda merah berlari di sawah hijau pagi"  # noqa: S105 - a test fixture


@dataclass(frozen=True)
class Instance:
    home: Path
    tmp: Path
    recipients: list[str]
    recovery_identity: Path | None = None  # the office recovery key, for checking with age

    def env(self, user: str | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BRANKAS_")}
        env.update({"BRANKAS_HOME": str(self.home), "BRANKAS_LANG": "en",
                    "TMPDIR": str(self.tmp)})
        if user:
            env.update({"BRANKAS_USER": user, "BRANKAS_PASSWORD": PASSWORDS[user]})
        return env

    def brankas(self, *args: str, user: str | None = "operator",
                module: str = "brankas", check: bool = True) -> proc.Run:
        """Run ``python -m brankas ARGS`` as ``user`` against this instance (``module``:
        ``bench.memwrap`` for the same CLI with the memory probe)."""
        env = self.env(user)
        if module != "brankas":
            root = str(Path(__file__).resolve().parent.parent)
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
        return proc.run([sys.executable, "-m", module, *args], env=env, cwd=self.tmp, check=check)


def create(home: Path, scratch: Path) -> Instance:
    tmp = scratch / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    secrets = scratch / "secrets"
    secrets.mkdir(exist_ok=True)
    for name, pw in PASSWORDS.items():
        (secrets / f"{name}.pw").write_text(pw + "\n")
    (secrets / "kabid.pp").write_text(KABID_PASSPHRASE + "\n")
    inst = Instance(home=home, tmp=tmp, recipients=[])
    init = inst.brankas("init", "--office", "Dinas Kominfo (bench)", "--admin", "admin",
                        "--password-file", str(secrets / "admin.pw"), "--json", user=None)
    recovery = secrets / "recovery.key"
    fd = os.open(recovery, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(json.loads(init.stdout)["recovery_identity"] + "\n")
    inst.brankas("user", "add", "operator", "--role", "sandiman", "--full-name", "Sandiman",
                 "--password-file", str(secrets / "operator.pw"), user="admin")
    inst.brankas("user", "add", "kabid", "--role", "kabid", "--full-name", "Kabid",
                 "--password-file", str(secrets / "kabid.pw"), user="admin")
    inst.brankas("key", "new", "--holder", "kabid", "--passphrase-file",
                 str(secrets / "kabid.pp"), user="kabid")
    keys = json.loads(inst.brankas("key", "list", "--json", user="admin").stdout)
    recipients = [k["recipient"] for k in keys if k["active"] and k["recipient"]]
    if len(recipients) != 2:
        raise RuntimeError(f"expected 2 recipients (Kabid and recovery), got {len(recipients)}")
    return Instance(home=home, tmp=tmp, recipients=recipients, recovery_identity=recovery)
