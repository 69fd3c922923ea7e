"""The reports pages: the list, a report and its sign-off chain, verifying a report PDF."""
