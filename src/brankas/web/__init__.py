"""The Django side of Brankas: apps with models, services (writes) and selectors (reads).

- ``accounts``: the office profile, users with their SOP role, CLI authentication.
- ``keys``: key holders' age identities (passphrase-protected) and the recipients.
- ``documents``: the register (agenda numbers) and the archive behind it.
- ``audit``: the append-only, hash-chained audit log.
- ``ui``: server-rendered views and forms, thin callers of the services.
"""
