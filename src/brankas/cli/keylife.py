"""``brankas key passphrase`` and ``brankas key check`` (issue 13; commands to come)."""
