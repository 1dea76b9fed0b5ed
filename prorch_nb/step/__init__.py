"""Steps, at the seed's module path."""
