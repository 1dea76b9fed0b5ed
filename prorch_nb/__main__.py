"""``python -m prorch_nb``: the ``prorch-nb`` command line."""

from prorch_nb.cli import main

raise SystemExit(main())
