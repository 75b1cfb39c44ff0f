"""siamdup's benchmarks, grouped by job and run as modules from the repository root (see README.md)."""
