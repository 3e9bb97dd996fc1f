"""``python -m crlcheck``."""

import sys

from crlcheck.cli import main

sys.exit(main())
