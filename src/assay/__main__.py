"""``python -m assay``."""

from assay.cli.main import main

# Guarded: worker processes started with "spawn" re-import the main module.
if __name__ == "__main__":
    main()
