"""Print the ethics monitor image's requirements, taken from pyproject.toml so that versions have one source:
the `monitor` extra and, of aiplane's own dependencies, only those `aiplane ethics evaluate` imports (the
rest — cdk8s and the Node.js it runs on, the schema and CEL engines, YAML — serve synthesis and validation
and would only make the image larger). Usage: python requirements.py pyproject.toml > requirements.txt"""

from __future__ import annotations

import re
import sys
import tomllib
from typing import Any

# aiplane's base dependencies the evaluator imports: the CLI and the spec model (boto3 comes with `monitor`).
RUNTIME = ("click", "pydantic")


def requirements(pyproject: dict[str, Any]) -> list[str]:
    project = pyproject["project"]
    base = [
        d for d in project["dependencies"] if re.split(r"[\s~=<>!\[;]", d, maxsplit=1)[0].lower() in RUNTIME
    ]
    return [*base, *project["optional-dependencies"]["monitor"]]


if __name__ == "__main__":
    with open(sys.argv[1], "rb") as handle:
        print("\n".join(requirements(tomllib.load(handle))))
