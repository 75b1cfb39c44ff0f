"""`python -m siamdup` runs the `siamdup` command."""

from siamdup.cli import app

app(prog_name="siamdup")
