"""Notebook views: Graphviz diagrams, pandas frames and ipywidgets, imported only when used."""
