"""Release and migration scripts: shipping the default model, upgrading saved models."""
