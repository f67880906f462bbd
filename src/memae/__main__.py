"""``python -m memae``: the command line."""

import sys

from memae.cli import main

sys.exit(main())
