"""Online signature verification: a trajectory encoder scored against a writer's few references."""
