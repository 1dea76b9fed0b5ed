"""Hook mixins, at the seed's module paths."""
