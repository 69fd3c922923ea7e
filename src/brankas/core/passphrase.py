"""Passphrase policy for key holders' identities.

Identity files travel on backup disks, so their passphrase must stand up to an offline
guessing attack on scrypt. Policy: at least ``MIN_LENGTH`` characters and a zxcvbn score
of at least ``MIN_SCORE`` (zxcvbn: Dropbox's realistic strength estimator, scores 0-4;
3 means "safely unguessable: moderate protection from an offline slow-hash scenario").
"""

from __future__ import annotations

from typing import Any

from zxcvbn import zxcvbn

from brankas.core.errors import InvalidInput

MIN_LENGTH = 12
MIN_SCORE = 3


def check_passphrase(passphrase: str, *, user_inputs: list[str] | None = None) -> None:
    # zxcvbn 4.5 refuses inputs over 72 characters (and crashes on ""): the first 72
    # characters decide the score, which is ample for a passphrase that long.
    sample = passphrase[:72]
    result: dict[str, Any] = (
        zxcvbn(sample, user_inputs=[u for u in (user_inputs or []) if u])
        if sample
        else {"score": 0, "feedback": {}}
    )
    score = int(result["score"])
    if len(passphrase) < MIN_LENGTH or score < MIN_SCORE:
        hint = " ".join(result.get("feedback", {}).get("suggestions", []))
        raise InvalidInput(
            "passphrase_weak",
            min_length=MIN_LENGTH,
            min_score=MIN_SCORE,
            score=score,
            hint=hint or "Use four or more unrelated words.",
        )
