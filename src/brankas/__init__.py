"""Brankas: register, encrypted four-folder archive and offline backup of official documents.

Layers (each imports only those below it):

- ``brankas.core``: plain Python, no Django. Official terms, errors, configuration,
  the cipher suite, intake checks, file names and the working store.
- ``brankas.web``: Django apps (models, services, selectors, views).
- ``brankas.cli``: the ``brankas`` command, a thin caller of the services.
"""

__version__ = "0.1.0"
