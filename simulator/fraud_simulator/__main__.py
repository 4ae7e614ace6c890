"""`python -m fraud_simulator` runs the same CLI as the `fraud-simulator` script."""

import sys

from fraud_simulator.cli import main

sys.exit(main())
