"""Recovering an instance from an offsite copy into a new home (``brankas recover
--from-offsite``; docs/offsite.md), all or nothing as from a disk (``recovering``).

The bucket is opened and the identities unlocked before anything is built (a wrong
passphrase or unreachable endpoint leaves nothing behind); the rebuild itself runs in
``recover_into`` (a sibling folder renamed into place when complete).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from brankas.instance.recovering import check_target, recover_into

if TYPE_CHECKING:
    from brankas.web.backup.recover import RecoverReport

Progress = Callable[[int, int, int, int], None]


def recover_from_offsite(*, url: str, endpoint: str, home: Path | str,
                         region: str = "us-east-1", credentials_file: str | None = None,
                         passphrase: str | None = None, identity_text: str | None = None,
                         shares: Sequence[tuple[str, str]] | None = None,
                         remote_name: str = "offsite", retention_days: int = 400,
                         on_progress: Progress | None = None) -> RecoverReport:
    """Rebuild a whole instance from the offsite copy at ``url`` (``s3://BUCKET[/PREFIX]``)
    on ``endpoint`` into the new, empty ``home``."""
    from brankas.core.offsite.recovery import parse_url, unlock
    from brankas.core.offsite.remote import Remote, RemoteConfig

    bucket, prefix = parse_url(url)
    target = Path(home).expanduser().absolute()
    check_target(target)
    creds = str(Path(credentials_file).expanduser().absolute()) if credentials_file else ""
    client = Remote(RemoteConfig(endpoint=endpoint, bucket=bucket, region=region,
                                 prefix=prefix, retention_days=retention_days,
                                 credentials_file=creds or None))
    client.check()
    identities, unlocked_with = unlock(client, passphrase=passphrase,
                                       identity_text=identity_text, shares=shares)
    where = f"s3://{bucket}/{prefix}".rstrip("/")
    with recover_into(target):
        from brankas.web.offsite.recover import offsite_instance_recover

        report = offsite_instance_recover(
            client=client, where=where, identities=identities, unlocked_with=unlocked_with,
            secrets=[(unlocked_with, str(i)) for i in identities], remote_name=remote_name,
            retention_days=retention_days, credentials_file=creds, on_progress=on_progress)
    report.home = str(target)
    return report
