"""``brankas recovery``: the office recovery key on paper (issue 13; commands to come)."""
