"""Server-rendered pages, one package per audience: residents, staff and admins, planners;
``shell`` renders every page and its failures the same way."""
