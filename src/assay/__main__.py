"""``python -m assay``."""

from assay.utils.cmdline import scrub_own_cmdline

scrub_own_cmdline()  # before the CLI's imports: the shortest time with the key visible in /proc

from assay.cli.main import main  # noqa: E402

# Guarded: worker processes started with "spawn" re-import the main module.
if __name__ == "__main__":
    main()
