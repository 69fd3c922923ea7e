"""Passphrase policy for key holders' identities.

Identity files travel on backup disks, so their passphrase must stand up to an offline
guessing attack on scrypt. Policy: at least ``MIN_LENGTH`` characters and a zxcvbn score
of at least ``MIN_SCORE`` (zxcvbn: Dropbox's realistic strength estimator, scores 0-4;
3 means "safely unguessable: moderate protection from an offline slow-hash scenario").
"""

from __future__ import annotations

from zxcvbn import zxcvbn

from brankas.core.errors import InvalidInput

MIN_LENGTH = 12
MIN_SCORE = 3


def check_passphrase(passphrase: str, *, user_inputs: list[str] | None = None) -> None:
    # zxcvbn slows down on very long inputs; the first 100 characters decide the score.
    result = zxcvbn(passphrase[:100], user_inputs=user_inputs or [])
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
