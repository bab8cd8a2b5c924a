"""``python -m resourcemap`` is the ``resourcemap`` command."""

from resourcemap.cli import main

main()
