"""The repository interface, at the seed's module path."""
