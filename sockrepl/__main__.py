"""`python -m sockrepl` is the same as the `sockrepl` command."""

from sockrepl.cli import main

raise SystemExit(main())
