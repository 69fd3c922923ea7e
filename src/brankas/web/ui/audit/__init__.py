"""The audit log pages: the log, its CSV export, verifying the chain."""
