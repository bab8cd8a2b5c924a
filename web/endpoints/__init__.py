"""HTTP endpoints, one module per resource of the API."""
