"""Keys over time (issue 13), without Django: the office recovery identity on paper, and
re-encrypting a stored file to new readers.

Vocabulary:

- *recovery identity*: the office's age X25519 identity kept on paper; every exempted
  file is also encrypted to its recipient (``Office.recovery_recipient``).
- *split*: the recovery identity's 32 secret bytes (``crypto.identity_secret``) cut into
  *shares* with SLIP-39 (``shamir-mnemonic``); a split has a random *identifier*, a
  number of shares *N* and a *threshold* *K*: any K shares rebuild the identity
  (``crypto.identity_from_secret``), fewer tell nothing. A *share* is 33 words; a *share
  file* is a text file of those words, as a person types them back from the *share sheet*
  (the printed page). The SLIP-39 passphrase is always empty: the paper is the secret.
- *rewrap*: decrypt a stored file with identities at hand and encrypt it again to a new
  set of recipients, as a stream, into a staged file beside the archive; age makes a
  fresh file key each time, so a rewrap is also a *rekey*.
- *header rewrap* (a grant): the same file key, unwrapped from the file's age header with
  an identity at hand, wrapped again for a new set of recipients in a new header; the
  payload is copied unchanged and nothing is decrypted (``agehdr``).
"""
