"""The ``graphcurv`` command line: typer commands that parse, call :mod:`graphcurv`, render with rich."""
