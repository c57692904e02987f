"""One module per command; each registers itself on :data:`graphcurv_cli.app.app`."""
