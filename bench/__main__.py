"""`python -m bench [--quick] [--profile]`."""
import sys

from .run import main

sys.exit(main())
