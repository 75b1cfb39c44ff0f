"""The `siamdup` command. Each module registers its commands on the shared typer app, in help order."""

# isort: off
from siamdup.cli import model_commands, index_commands, scale_commands, serve_command  # noqa: F401  (registers commands)
from siamdup.cli import export_command  # noqa: F401  (registers `siamdup export`)
from siamdup.cli import verify_options  # noqa: F401  (registers `siamdup verify`)
from siamdup.cli import signature_commands  # noqa: F401  (registers `siamdup signatures`)
from siamdup.cli import signature_enrol_commands  # noqa: F401  (registers commands)
from siamdup.cli import image_commands  # noqa: F401  (registers `siamdup images`)
from siamdup.cli.common import app

# isort: on

__all__ = ["app"]
