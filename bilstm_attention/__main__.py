"""``python -m bilstm_attention`` runs the command line."""

import sys

from bilstm_attention.cli import main

sys.exit(main())
