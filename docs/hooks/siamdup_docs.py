"""mkdocs hooks: tables from the results' CSV files and the CLI reference from the typer app.

A line `{{ csv_table("data/models.csv") }}` becomes that CSV (path relative to the page) as a markdown
table, so the tables and the plots read the same figures. A line `{{ cli_reference }}` becomes every
command's --help, taken from the `siamdup` typer app, so the reference cannot drift from the code.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

CSV_TABLE = re.compile(r'^\{\{ csv_table\("([^"]+)"\) \}\}$', re.MULTILINE)
CLI_REFERENCE = "{{ cli_reference }}"


def csv_table(path: Path) -> str:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    numeric = [all(_is_number(r[i]) for r in body if r[i]) for i in range(len(header))]
    lines = [
        "| " + " | ".join(h.replace("_", " ") for h in header) + " |",
        "|" + "|".join("---:" if n else "---" for n in numeric) + "|",
    ]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in body]
    return "\n".join(lines)


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _cell(value: str) -> str:
    if _is_number(value) and float(value) >= 1000 and "." not in value:
        return f"{int(value):,}"
    return value.replace("|", "\\|")


def cli_reference() -> str:
    import typer
    import typer.core

    from siamdup.cli import app

    typer.core.HAS_RICH = False  # plain text help: typer's rich panels print to the terminal instead
    sections = []

    def walk(command, path: list[str]) -> None:
        context = command.context_class(command, info_name=" ".join(["siamdup", *path]), terminal_width=100)
        if hasattr(command, "list_commands"):
            for name in command.list_commands(context):
                walk(command.get_command(context, name), [*path, name])
            return
        sections.append(
            f"## `siamdup {' '.join(path)}`\n\n```text\n{command.get_help(context).rstrip()}\n```\n"
        )

    walk(typer.main.get_command(app), [])
    return "\n".join(sections)


def on_page_markdown(markdown: str, page, config, files) -> str:
    folder = Path(page.file.abs_src_path).parent
    markdown = CSV_TABLE.sub(lambda m: csv_table(folder / m.group(1)), markdown)
    if CLI_REFERENCE in markdown:
        markdown = markdown.replace(CLI_REFERENCE, cli_reference())
    return markdown
