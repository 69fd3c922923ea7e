"""``brankas key coverage`` (issue 13; command to come)."""
