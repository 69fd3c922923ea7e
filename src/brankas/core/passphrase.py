"""Passphrase policy for key holders' identities.

Identity files travel on backup disks, so their passphrase must stand up to an offline
guessing attack on scrypt. Policy: at least ``MIN_LENGTH`` characters and a zxcvbn score
of at least ``MIN_SCORE`` (zxcvbn: Dropbox's realistic strength estimator, scores 0-4;
3 means "safely unguessable: moderate protection from an offline slow-hash scenario").
"""

from __future__ import annotations

from typing import Any

from brankas.core.errors import InvalidInput

MIN_LENGTH = 12
MIN_SCORE = 3

# zxcvbn's feedback is English only: each of its warnings and suggestions (keyed by
# zxcvbn's own text, zxcvbn/feedback.py) in Bahasa Indonesia and English. A text zxcvbn
# adds later is left out of the hint rather than shown in English (the test of this table
# reads zxcvbn's source and fails on a missing one).
FEEDBACK: dict[str, tuple[str, str]] = {
    "Use a few words, avoid common phrases.": (
        "Gunakan beberapa kata; hindari ungkapan yang umum.",
        "Use a few words, avoid common phrases."),
    "No need for symbols, digits, or uppercase letters.": (
        "Tidak perlu simbol, angka atau huruf besar.",
        "No need for symbols, digits, or uppercase letters."),
    "Add another word or two. Uncommon words are better.": (
        "Tambahkan satu atau dua kata lagi; kata yang jarang dipakai lebih baik.",
        "Add another word or two. Uncommon words are better."),
    "Straight rows of keys are easy to guess.": (
        "Deretan tombol yang lurus mudah ditebak.",
        "Straight rows of keys are easy to guess."),
    "Short keyboard patterns are easy to guess.": (
        "Pola papan ketik yang pendek mudah ditebak.",
        "Short keyboard patterns are easy to guess."),
    "Use a longer keyboard pattern with more turns.": (
        "Gunakan pola papan ketik yang lebih panjang dengan lebih banyak belokan.",
        "Use a longer keyboard pattern with more turns."),
    'Repeats like "aaa" are easy to guess.': (
        'Pengulangan seperti "aaa" mudah ditebak.',
        'Repeats like "aaa" are easy to guess.'),
    'Repeats like "abcabcabc" are only slightly harder to guess than "abc".': (
        'Pengulangan seperti "abcabcabc" hanya sedikit lebih sulit ditebak daripada "abc".',
        'Repeats like "abcabcabc" are only slightly harder to guess than "abc".'),
    "Avoid repeated words and characters.": (
        "Hindari kata dan karakter yang berulang.",
        "Avoid repeated words and characters."),
    'Sequences like "abc" or "6543" are easy to guess.': (
        'Urutan seperti "abc" atau "6543" mudah ditebak.',
        'Sequences like "abc" or "6543" are easy to guess.'),
    "Avoid sequences.": ("Hindari urutan.", "Avoid sequences."),
    "Recent years are easy to guess.": (
        "Tahun-tahun terakhir mudah ditebak.", "Recent years are easy to guess."),
    "Avoid recent years.": ("Hindari tahun-tahun terakhir.", "Avoid recent years."),
    "Avoid years that are associated with you.": (
        "Hindari tahun yang berkaitan dengan Anda.",
        "Avoid years that are associated with you."),
    "Dates are often easy to guess.": (
        "Tanggal sering mudah ditebak.", "Dates are often easy to guess."),
    "Avoid dates and years that are associated with you.": (
        "Hindari tanggal dan tahun yang berkaitan dengan Anda.",
        "Avoid dates and years that are associated with you."),
    "This is a top-10 common password.": (
        "Ini termasuk 10 kata sandi paling umum.", "This is a top-10 common password."),
    "This is a top-100 common password.": (
        "Ini termasuk 100 kata sandi paling umum.", "This is a top-100 common password."),
    "This is a very common password.": (
        "Ini kata sandi yang sangat umum.", "This is a very common password."),
    "This is similar to a commonly used password.": (
        "Ini mirip kata sandi yang umum dipakai.",
        "This is similar to a commonly used password."),
    "A word by itself is easy to guess.": (
        "Satu kata saja mudah ditebak.", "A word by itself is easy to guess."),
    "Names and surnames by themselves are easy to guess.": (
        "Nama depan dan nama keluarga saja mudah ditebak.",
        "Names and surnames by themselves are easy to guess."),
    "Common names and surnames are easy to guess.": (
        "Nama depan dan nama keluarga yang umum mudah ditebak.",
        "Common names and surnames are easy to guess."),
    "Capitalization doesn't help very much.": (
        "Huruf besar di awal tidak banyak membantu.",
        "Capitalization doesn't help very much."),
    "All-uppercase is almost as easy to guess as all-lowercase.": (
        "Semua huruf besar hampir sama mudah ditebaknya dengan semua huruf kecil.",
        "All-uppercase is almost as easy to guess as all-lowercase."),
    "Reversed words aren't much harder to guess.": (
        "Kata yang dibalik tidak jauh lebih sulit ditebak.",
        "Reversed words aren't much harder to guess."),
    "Predictable substitutions like '@' instead of 'a' don't help very much.": (
        "Penggantian yang mudah diduga, seperti '@' untuk 'a', tidak banyak membantu.",
        "Predictable substitutions like '@' instead of 'a' don't help very much."),
}
DEFAULT_HINT = ("Gunakan empat kata atau lebih yang tidak saling berhubungan.",
                "Use four or more unrelated words.")


def feedback_hint(feedback: dict[str, Any]) -> tuple[str, str]:
    """zxcvbn's warning and suggestions as one hint, (Bahasa Indonesia, English)."""
    texts = [t for t in [feedback.get("warning") or "", *feedback.get("suggestions", [])] if t]
    known = [FEEDBACK[t] for t in texts if t in FEEDBACK]
    if not known:
        return DEFAULT_HINT
    return (" ".join(k[0] for k in known), " ".join(k[1] for k in known))


def check_passphrase(passphrase: str, *, user_inputs: list[str] | None = None) -> None:
    # zxcvbn 4.5 refuses inputs over 72 characters (and crashes on ""): the first 72
    # characters decide the score, which is ample for a passphrase that long.
    sample = passphrase[:72]
    # Imported here: its word lists cost about 0.03 s of every command that merely
    # imports the keys' services (an offsite push, s20).
    from zxcvbn import zxcvbn

    result: dict[str, Any] = (
        zxcvbn(sample, user_inputs=[u for u in (user_inputs or []) if u])
        if sample
        else {"score": 0, "feedback": {}}
    )
    score = int(result["score"])
    if len(passphrase) < MIN_LENGTH or score < MIN_SCORE:
        raise InvalidInput(
            "passphrase_weak",
            min_length=MIN_LENGTH,
            min_score=MIN_SCORE,
            score=score,
            hint=feedback_hint(result.get("feedback") or {}),
        )
