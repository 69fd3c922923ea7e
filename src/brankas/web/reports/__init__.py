"""Reports and their sign-off chain (SOP steps 8-10): the backup result report and the
sent/received messages report, the Kasi's executive summary, the Kabid's approval, the
Kadis's acknowledgement; every signed step recorded with the SHA-256 of the PDF it saw."""
