"""``python -m electrovox``: the command line."""
import sys

from electrovox.cli import main

sys.exit(main())
