"""``assay app``: a read-only web viewer for eval runs, perf sweeps and think results (the ``app`` extra)."""
