"""Requests to send a secret message (permintaan pengiriman berita) and their assignment
chain: the SOP's records 1-5 (request to the Kadis, Kabid, Kasi, Sandiman assigned, letter
received), then registering the letter as an outgoing document and sending it.

Vocabulary: a *request* (``SendRequest``) has a *state* (``brankas.core.chains.request.State``),
a current *assignee* (the user it waits for), an optional *letter* (the attachment, kept
under ``BRANKAS_HOME/permintaan/``, encrypted when exempted) and a history of *steps*
(``RequestStep``: who, when, a note).

The app was named ``dispatch`` before issue 12 and keeps that label (``AppConfig.label``):
its tables (``dispatch_sendrequest``, ``dispatch_requeststep``), its migrations and the
database snapshots already on backup disks all name the label, not the module.
"""
