"""Search: one port (``base.SearchBackend``) with an embedded and a Meilisearch adapter."""
