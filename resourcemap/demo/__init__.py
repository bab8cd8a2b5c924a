"""The synthetic demo city (示例数据): a deterministic district of streets and communities,
a population grid and service resources of every kind, for trying the product and for the
tests. ``city`` loads it; ``catalogue``, ``builder``, ``profiles`` and ``names`` make it."""
