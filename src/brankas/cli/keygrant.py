"""``brankas key grant`` and ``brankas key revoke`` (issue 13; commands to come)."""
