"""The audit log's integrity, checked without a database: the hash chain, and the chain's
head as an approved report's PDF carries it.

Vocabulary:

- *entry*: one audited action, hashed in canonical form; the *chain*: the entries in
  sequence order, each entry's hash covering its content and the previous entry's hash, so
  an edited, deleted, inserted or reordered entry breaks it (``hashchain``).
- *counter*: the highest sequence number ever given; it only grows, so entries cut from the
  end leave a gap.
- *head*: ``(seq, hash)``, the chain at one moment. An *anchor* is a head recorded outside
  the database (an approved report, a disk's control list, a report's PDF): the chain must
  still reach it.
- *finding*: one problem, with a code and parameters worded in both languages by
  ``brankas.core.errors.message``.

Modules:

- ``hashchain``: the chain, the counter and the anchors, checked in one pass (``check``).
- ``head``: the head written into an approved report's PDF, and read back from the PDF alone.
"""
