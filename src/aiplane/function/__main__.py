"""`python -m aiplane.function`: serve function-aiplane, the entry point of its image.

The flags are those every Crossplane function takes (crossplane/function-template-python): Crossplane runs the
image with TLS certificates in TLS_SERVER_CERTS_DIR; `--insecure` is for local use (`crossplane render`
with a Development runtime, and the conformance suite).
"""

from __future__ import annotations

import click
from crossplane.function import logging, runtime

from aiplane.function.server import FunctionRunner


@click.command()
@click.option("--debug", "-d", is_flag=True, help="Emit debug logs.")
@click.option("--address", default="0.0.0.0:9443", show_default=True, help="Address to listen on for gRPC.")
@click.option(
    "--tls-certs-dir",
    envvar="TLS_SERVER_CERTS_DIR",
    help="Folder with tls.key, tls.crt and ca.crt (mTLS, as Crossplane provides them).",
)
@click.option("--insecure", is_flag=True, help="Serve without TLS (local development only).")
def main(debug: bool, address: str, tls_certs_dir: str | None, insecure: bool) -> None:
    logging.configure(level=logging.Level.DEBUG if debug else logging.Level.INFO)
    creds = runtime.load_credentials(tls_certs_dir) if tls_certs_dir else None
    runtime.serve(FunctionRunner(), address, creds=creds, insecure=insecure)


if __name__ == "__main__":
    main()
