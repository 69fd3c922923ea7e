"""The WSGI entry point for a server other than ``brankas serve`` (which uses it too)."""

import os

from django.core.wsgi import get_wsgi_application

from brankas.core import fsutil

# Everything the web application creates in the data folder is private to its owner.
fsutil.private_umask()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "brankas.web.settings")
application = get_wsgi_application()
