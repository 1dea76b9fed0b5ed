"""Example pipelines: the seed's backup automation, used by the demo and the notebooks."""
