"""`python -m merchant_service` runs the same entry point as the console script."""

import sys

from merchant_service.server import main

sys.exit(main())
