"""The peer implementations timed by benchmarks.speed; they run in their own virtual environments."""
