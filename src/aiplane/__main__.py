"""`python -m aiplane`: the same CLI as the `aiplane` console script."""

from aiplane.cli import console

console()
