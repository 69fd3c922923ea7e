"""The core library of Brankas: no Django import anywhere below this package.

Vocabulary:

- *direction*: ``pengiriman`` (outgoing) or ``penerimaan`` (incoming).
- *classification*: the security class of a document: ``biasa``, ``terbatas``,
  ``rahasia``, ``sangat-rahasia``.
- *category*: the SOP folder a classification files into: ``biasa`` (stored as is) or
  ``dikecualikan`` (exempted from disclosure, always encrypted).
- *agenda*: the register number given to a document, sequential per year and direction.
- *store*: the working archive under ``BRANKAS_HOME/arsip`` with the SOP's four folders.
- *cipher suite*: the one module (``crypto``) that encrypts; files record which suite made them.
- *recipient* / *identity*: the public and secret halves of an age X25519 key.
- *medium*: one external backup disk, recognised by the identity file written on it.
- *bag*: the BagIt (RFC 8493) folder on a medium; *payload path*: a file's path under the
  bag's ``data/`` folder.

Packages (each ``__init__`` defines its own words):

- ``register``: the data-input form, intake checks, agenda numbers, the store.
- ``disk``: the backup disk: BagIt writer and reader, fixity check, seals, the
  one way a disk's files are opened.
- ``audit``: the audit log's hash chain, and its head on approved reports.
- ``reports``: report periods and standard times, report documents and their signatures.
- ``printing``: printouts (PDF) and spreadsheet-safe tables (CSV).
- ``chains``: the custody, report and request chains: states, steps, holders.
- at the top, shared by all: ``access``, ``config``, ``crypto``, ``errors``, ``fsutil``,
  ``names``, ``passphrase``, ``terms``.
"""
