"""The reports of SOP steps 8-10 as documents: laid out from their figures, and signed.

Vocabulary:

- *period*: a month ``YYYY-MM``, a quarter ``YYYY-Qn`` or a year ``YYYY``; a report covers
  one and compares it with the period before. *kind*: ``backup`` (Laporan Hasil Back Up
  Data) or ``messages`` (Laporan Hasil Penerimaan dan Pengiriman Berita).
- *mutu baku*: the SOP's standard time of each step, against which the times measured from
  Brankas's own timestamps are reported.
- *figures*: the plain data of a report (JSON), gathered by ``brankas.web.reports.selectors``;
  this package only lays them out.
- *report document*: the PDF in the official layout (letterhead, title, number, period,
  tables, executive summary, signature blocks with name, position and NIP, and on the
  approved report the verification block) and the XLSX of its tables (``render``).
- *statement*: what a signer signs at a step: the SHA-256 of the PDF as rendered then, with
  the report, its version, the step, the signer and the time. A *signer key* is an Ed25519
  key kept inside an age passphrase file (``signing``).

Periods, kinds and standard times are in ``periods``; the sign-off chain is
``brankas.core.chains.report``.

Modules: ``render``, ``signing``, ``periods``.
"""
