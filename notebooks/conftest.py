"""pytest settings for the example notebooks (run with ``--nbval``).

The notebooks write their databases and the small modules they import under ``runs/``:
scratch output, never tests. Importing those modules (``--doctest-modules``) would
register their pipelines in the test process, so pytest skips the folder; it skips this
file too, which has no doctests and would clash with other ``conftest`` modules.
"""

collect_ignore = ["runs", "conftest.py"]
