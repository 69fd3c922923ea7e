"""What Brankas hands to people: printouts in the office layout, and tables that a
spreadsheet opens safely.

Vocabulary:

- *printout*: a PDF in the office layout (``pdf.PrintDocument`` of ``PrintText``,
  ``PrintTable`` and ``Signature`` blocks), rendered in memory with ReportLab, never through
  a temporary file; every text is plain text, escaped before ReportLab's markup sees it.
- *table*: rows written as CSV in UTF-8 with a byte-order mark, every cell kept as text; a
  cell a spreadsheet would take for a formula gets a leading apostrophe (``tables``).

Modules: ``pdf`` (the reports, the combination list, the custody log), ``tables`` (every
CSV export).
"""
