"""``python -m losscore_cli``: the same as the ``losscore`` console script."""

import sys

from losscore_cli import main

sys.exit(main())
