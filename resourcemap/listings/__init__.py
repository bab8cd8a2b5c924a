"""Listings: the service resources and the organisations that run them — reading them
(``views``), changing them (``edits``, ``organisations``), their hours (``hours``,
``opening``: open now, holidays), contact numbers (``phones``) and the slim rows of the
residents' map (``map_points``)."""
