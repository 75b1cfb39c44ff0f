import typer

from siamdup.cli.common import MAX_MESSAGE_CHARS, fail


def test_an_error_message_is_capped(capsys) -> None:
    exit_ = fail("ids already stored: " + "x" * 10_000_000)
    printed = capsys.readouterr().err
    assert isinstance(exit_, typer.Exit) and exit_.exit_code == 2
    assert printed.startswith("error: ids already stored: xxx") and printed.rstrip().endswith("…")
    assert len(printed) < MAX_MESSAGE_CHARS + 20
