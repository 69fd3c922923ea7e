"""Registering a document (SOP steps 1-5): the data-input form, the intake checks, the
agenda number and the working store with the SOP's four folders.

Vocabulary:

- *document input*: the data-input form, checked the same way for the web and the CLI
  (``metadata.DocumentInput``: direction, classification, number, date, subject,
  correspondent, pages, attachments, notes).
- *input file*: what arrives, a name and a way to open its bytes again
  (``intake.InputFile``); *prepared*: what the intake checks make of it, one PDF (scans
  combined without re-compression), its type decided by content, never by name.
- *agenda*: the register number of a document, sequential per year and direction, never
  reused (``agenda.format_agenda``: ``M-2026-0001``).
- *store*: the working archive under ``BRANKAS_HOME/arsip``:
  ``<category>/<direction>/<year>/``, an exempted file named by its agenda alone. A file is
  *staged* (written to ``tmp/``, ciphertext only when exempted, fsynced), then *placed*
  under its name; a request's *letter* follows the same rules under ``permintaan/<year>/``.
- *rename*: giving a stored file a new name without overwriting anything, safe to cut short
  and run again (when the naming rule changes).

Modules: ``metadata``, ``intake``, ``agenda``, ``store``, ``rename``.
"""
