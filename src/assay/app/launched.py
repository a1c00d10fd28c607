"""``python -m assay.app.launched eval|perf CONFIG``: a run the workbench launched.

It is ``assay eval --config CONFIG`` (or ``assay perf``), plus the secret values of the form (the API key, a
credential in a JSON field, headers) as the same flags, taken from ``$ASSAY_LAUNCH_SECRET_ARGS``: ``assay eval``
reads no key from the environment, and a flag on the real command line would show in ``ps``. The variable is
removed first, so nothing this run starts (the simulator, code sandboxes) inherits it, and the flags are handed
to the CLI in process, never through ``argv``.
"""

from __future__ import annotations

import json
import os
import sys

from assay.app.launch import SECRET_ARGS_ENV


def main(argv: list[str]) -> None:
    extra = json.loads(os.environ.pop(SECRET_ARGS_ENV, None) or "[]")
    if len(argv) != 2 or argv[0] not in ("eval", "perf"):
        sys.exit("usage: python -m assay.app.launched eval|perf CONFIG")
    kind, config = argv
    from assay.cli.main import main as cli_main

    cli_main([kind, "--config", config, *extra])


if __name__ == "__main__":
    main(sys.argv[1:])
