"""Pipelines, at the seed's module path."""
