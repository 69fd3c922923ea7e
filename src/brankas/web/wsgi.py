"""The WSGI entry point for a server other than ``brankas serve`` (which uses it too)."""

from django.core.wsgi import get_wsgi_application

from brankas import instance
from brankas.core import fsutil

# Everything the web application creates in the data folder is private to its owner.
fsutil.private_umask()
instance.start()  # the data folder and its secret made ready, Django set up on it
application = get_wsgi_application()
