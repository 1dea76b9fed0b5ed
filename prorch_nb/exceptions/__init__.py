"""Exceptions, at the seed's module path ``prorch_nb.exceptions.exceptions``."""
