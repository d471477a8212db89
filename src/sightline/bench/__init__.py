"""The benchmark suite: `sightline bench [--quick]` (see docs/benchmarks.md)."""
