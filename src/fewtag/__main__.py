"""``python -m fewtag`` runs the CLI."""

from fewtag.cli import main

main()
