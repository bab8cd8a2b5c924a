"""Bulk import and export of listings, and import of administrative areas.

- :mod:`~resourcemap.transfer.importer`: ``import_listings`` (CSV, XLSX, GeoJSON, HSDS 3.0
  JSON → validated, all-or-nothing write), ``ImportOptions``, ``SYSTEM`` (the CLI's actor)
- :mod:`~resourcemap.transfer.exporter`: ``export_listings`` (hsds, geojson, csv, xlsx)
- :mod:`~resourcemap.transfer.areas`: ``import_areas`` (GeoJSON, Shapefile, GeoPackage)
- :mod:`~resourcemap.transfer.report`: ``ImportReport`` and its ``Problem`` rows
- :mod:`~resourcemap.transfer.readers`, :mod:`~resourcemap.transfer.columns`,
  :mod:`~resourcemap.transfer.texts`: files → rows → ``ResourceIn`` input, and back
- :mod:`~resourcemap.transfer.checks`: file-wide and database checks of the rows
- :mod:`~resourcemap.transfer.hsds_in`, :mod:`~resourcemap.transfer.hsds_out`,
  :mod:`~resourcemap.transfer.hsds_terms`: docs/hsds-mapping.md, both ways
"""
