"""Registration decorators, at the seed's module path."""
