"""`python -m fuzzing --help`."""

import sys

from fuzzing.cli import main

sys.exit(main())
