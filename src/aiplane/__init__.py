"""aiplane: Crossplane v2 platform APIs, Flux GitOps manifests and guardrails for AI infrastructure.

Its subpackages, what each is for and which way they may import: docs/architecture.md."""

from pathlib import Path

__version__ = "0.1.0"

# The package's data files (catalog, CRDs and their JSON caches, schemas, package versions), read from the
# installed package's folder: aiplane is a regular package, which pip never installs zipped, and
# importlib.resources cost every command 7 ms of imports (tempfile, shutil, zipfile).
DATA = Path(__file__).parent / "data"
