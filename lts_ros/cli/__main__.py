"""``python -m lts_ros.cli``: the ``lts`` command."""
import sys

from lts_ros.cli import main

sys.exit(main())
