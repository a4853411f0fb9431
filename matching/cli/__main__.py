"""`python -m matching.cli`: the same as the `matching` script."""

from matching.cli.main import main

raise SystemExit(main())
