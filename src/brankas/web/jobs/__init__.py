"""Long work that survives a restart: the job record (``models.Job``), what runs it
(``services``, a django-tasks task in ``tasks``), the worker loop (``worker``) and the work of
each kind (``runners``, thin calls to the services that do it). docs/architecture.md, "Jobs"."""
