"""``python -m assay.sim [CONFIG_JSON]``: serve the simulator with a config given as JSON (or the defaults).

``SimProcess`` starts its child this way; people use ``assay sim --help`` and its flags instead.
"""

from __future__ import annotations

import logging
import os
import sys

from pydantic import ValidationError

from assay.errors import AssayError
from assay.sim.config import SimConfig
from assay.sim.process import STOP_ON_STDIN_EOF_ENV
from assay.sim.server import serve

logger = logging.getLogger("assay.sim")


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGINT/SIGTERM; exit code 2 for a bad config, as the CLI does."""
    args = sys.argv[1:] if argv is None else argv
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = SimConfig.model_validate_json(args[0]) if args else SimConfig()
        serve(config, stop_on_stdin_eof=os.environ.get(STOP_ON_STDIN_EOF_ENV) == "1")
    except (ValidationError, AssayError, OSError) as exc:
        logger.error("cannot start the simulator: %s", exc)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
