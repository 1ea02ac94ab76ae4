import sys

from electrovox.cli import main

sys.exit(main())
