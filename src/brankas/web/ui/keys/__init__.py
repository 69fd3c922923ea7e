"""The keys page: key holders' age keys and the office recovery key."""
