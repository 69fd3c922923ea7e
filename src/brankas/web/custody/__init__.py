"""Safes, their combination lock numbers, and the custody of backup disks (SOP step 7).

Vocabulary: a *safe* (brankas) has a location and a combination; a *combination* is
stored only encrypted (age) to the key holders allowed to read it and to the office
recovery key, and a change keeps the old ones, marked superseded. A disk's *custody* is
its current state (``brankas.core.chains.custody``) and the *moves* that led there: the chain
of custody.
"""
