"""The register's pages: the list, a document, opening its PDF, registering a scan."""
