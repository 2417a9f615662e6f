"""Executors run a stage's commands: `local` (process groups on this machine); `dask` later."""
