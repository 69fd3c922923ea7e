"""The custody pages: the safes and their combinations, a disk and its moves."""
