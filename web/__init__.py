"""The Starlette web layer: thin endpoints over the ``resourcemap`` domain."""
