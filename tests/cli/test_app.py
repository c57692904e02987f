import pytest
import torch

from graphcurv_cli.app import main, settings


def test_version_lists_the_stack(capsys):
    assert main(["version"]) == 0
    out = capsys.readouterr().out
    for name in ("graphcurv", "torch", "torch_geometric", "POT", "graph-tool", "CUDA available"):
        assert name in out
    assert torch.__version__ in out


def test_help_lists_commands_and_global_options(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for word in ("--device", "--seed", "--debug", "curvature", "info", "version"):
        assert word in out


def test_errors_are_one_line_unless_debug(capsys):
    assert main(["info", "/no/such/file.txt"]) == 1
    err = capsys.readouterr().err
    assert err.strip().startswith("error:") and "Traceback" not in err and len(err.strip().splitlines()) == 1
    with pytest.raises(Exception, match="no such file"):
        main(["--debug", "info", "/no/such/file.txt"])


def test_device_option(capsys):
    assert main(["--device", "cpu", "--seed", "7", "info", "karate"]) == 0
    assert settings().device == "cpu" and settings().seed == 7
    assert torch.initial_seed() == 7
    if not torch.cuda.is_available():
        assert main(["--device", "cuda", "info", "karate"]) == 1
        assert "CUDA is not available" in capsys.readouterr().err
    assert main(["--device", "tpu", "info", "karate"]) == 1
    assert "device" in capsys.readouterr().err


def test_unknown_command_is_a_usage_error(capsys):
    assert main(["frobnicate"]) == 2


def test_help_paragraphs_wrap_to_the_terminal(capsys, monkeypatch):
    # the docstring of `riccinets search` breaks this sentence after "--train-size" in the source
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["riccinets", "search", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split("│"))
    assert "trains the network from scratch (--epochs on the first --train-size train images) and scores" in out


def test_reflow_joins_paragraph_lines_and_keeps_marked_ones():
    from graphcurv_cli.app import reflow

    text = "Summary\n    line.\n\n    A paragraph\n    over lines.\n\n    \b\n    kept\n    lines"
    assert reflow(text) == "Summary line.\n\nA paragraph over lines.\n\n\b\nkept\nlines"
