"""Record dataclasses, at the seed's module paths."""
