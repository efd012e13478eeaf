"""``python -m conformance`` runs the ``conformance`` command (:func:`conformance.cli.main`)."""

import sys

from conformance.cli import main

sys.exit(main())
