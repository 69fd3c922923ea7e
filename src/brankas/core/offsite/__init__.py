"""Offsite copies to S3-compatible object storage under Object Lock (issue 18).

Vocabulary: a *remote* is one bucket (and a prefix in it) on an S3 server, reached with the
office's credentials; an *object* is one named, versioned blob there; a *version* of a locked
object cannot be deleted or overwritten until its *retention* date (COMPLIANCE mode) has
passed; the *canary* is a tiny object written under a one-day lock whose deletion is then
attempted, to learn whether the server enforces locks at all.

``remote.py`` is the S3 layer (the narrow interface every other part uses; retries, the
bandwidth limit and resumable uploads live there), with its parts: ``names.py`` (keys and
addresses checked), ``credentials.py``, ``answers.py`` (what the server's errors mean, which
are retried) and ``throttle.py`` (the bandwidth limiter). docs/offsite-remote.md.
"""
