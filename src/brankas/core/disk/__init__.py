"""The backup disk (SOP steps 6 and 7): a BagIt bag on an external disk, written
append-only, checked for fixity, read back, and sealed by the office.

Vocabulary:

- *disk* (*medium*): one external backup disk, known by its identity file
  ``brankas-medium.json`` (id, label, created: ``format.MediumInfo``).
- *bag*: the BagIt 1.0 folder (RFC 8493) on the disk. A *payload path* is '/'-separated and
  relative to the bag's ``data/``; a *bag path* is relative to the disk's root
  (``data/arsip/...``); only bag paths appear in the manifests.
- *tag files*: ``bagit.txt``, ``bag-info.txt``, ``manifest-sha256.txt``,
  ``brankas-sizes.txt``, the identity file, the restore guides (``guides/``) and
  ``tagmanifest-sha256.txt``, which lists the others.
- *staging*: ``.brankas-staging/``, outside ``data/``: copies wait there, fsynced and read
  back, until a *checkpoint* moves a batch into ``data/`` and lists it; the *journal* of a
  checkpoint lets the next open repair one that was cut short.
- *run*: one backup onto the disk, with its folder ``data/backup/<NNNN>_<started UTC>/``
  (the database snapshot, the registers, the recipients, the control list).
- *seal*: the office's Ed25519 signature over what a run wrote; an *anchor* proves the
  office's key without trusting the disk (this machine's key, a fingerprint on paper, or an
  anchor file tagged with a key holder's or the recovery identity).
- *untrusted*: everything a disk says. Every path and file on a disk goes through ``fs``.

Modules:

- ``fs``: the one way a disk's paths and files are used: checked paths, no link followed,
  regular files only, bounded reads, no blocking open.
- ``format``: the bag's files, how they are written and read (manifests, bag-info,
  identity, guides), hashing past the page cache, the lock.
- ``bag``: the append-only writer (``open_or_create``, ``Bag.add_files``): stage, verify
  after write, hand over to ``state``.
- ``state``: the tag files and the order in which they change: checkpoints, journal, repair.
- ``verify``: the fixity check (full, fast, sample) and, with the office's records, the
  seals and the register.
- ``reader``: payload files out of a disk, each checked against the manifest (restore,
  recover, the drill).
- ``layout``: where the archive, the keys and each run's files go under ``data/``; unlocking
  the disk's encrypted register.
- ``seal``: the office's seal on each run and the anchors of the office key.

Modules whose short names say little on their own are imported under a telling name, here
and elsewhere: ``from brankas.core.disk import fs as diskfs``, ``format as fmt``, ``seal as
diskseal``.
"""
