"""Sweeps run by the scheduler; every module here is imported by scheduler.runner.load_jobs."""
