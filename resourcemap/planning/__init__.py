"""What planners are held to: coverage of the service circle (``coverage``, ``levels``),
access beyond distance (``access``, ``waiting``), indicators against targets
(``indicators``), where new service points would help most (``siting``), demand
(``demand``), and the reports and exports of each."""
