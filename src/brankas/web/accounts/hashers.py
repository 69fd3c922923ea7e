"""Password hashing: Argon2id with the OWASP Password Storage Cheat Sheet's parameters.

Django's default Argon2 costs 100 MiB a hash (memory_cost 102400 KiB, parallelism 8).
OWASP recommends m=19 MiB, t=2, p=1 as an equivalent-strength configuration; it keeps a
command's peak memory low on an office laptop (every CLI command checks a password) while
staying memory-hard. Hashes made with other parameters are upgraded at the next login.
"""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class BrankasArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 2
    memory_cost = 19456  # KiB
    parallelism = 1
