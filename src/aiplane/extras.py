"""Which optional extra a command needs when a module it imports is missing.

`pip install aiplane` gives the base: synth, check, validate, cost, plan and init. Commands that talk to AWS,
compute fairness or edit files in place need an extra (docs/adoption.md#extras). The extras and what they hold
are read from the installed distribution's own metadata (pyproject.toml is their one source); only the extra
each command is for, and the few import names that differ from their distribution's, are stated here."""

from __future__ import annotations

import re

# The extra each command that needs one is for: named first when several extras bring the missing package
# (boto3 is in `audit`, `finops` and `monitor`).
COMMAND_EXTRAS = {
    "audit": "audit",
    "rightsize": "finops",
    "catalog refresh": "finops",
    "ethics evaluate": "monitor",
    "ethics gate": "monitor",
}
# Import names that are not their distribution's name (normalized): botocore comes with boto3.
DISTRIBUTION_OF_IMPORT = {"botocore": "boto3", "ruamel": "ruamel-yaml", "sklearn": "fairlearn"}
# `dev` holds every other extra and the test tools: never the one to suggest for a command.
NOT_SUGGESTED = {"dev"}

_REQUIREMENT = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_EXTRA_MARKER = re.compile(r"""extra\s*==\s*["']([^"']+)["']""")


def normalize(name: str) -> str:
    """A distribution or import name as the packaging specs compare them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def extras_by_distribution(requirements: list[str] | None = None) -> dict[str, list[str]]:
    """Normalized distribution name → the extras of aiplane that install it, in pyproject order."""
    if requirements is None:
        from importlib import metadata  # only when a command failed: keeps the CLI's start-up lean

        try:
            requirements = metadata.requires("aiplane") or []
        except metadata.PackageNotFoundError:  # running from a source tree that was never installed
            requirements = []
    found: dict[str, list[str]] = {}
    for requirement in requirements:
        name, extra = _REQUIREMENT.match(requirement), _EXTRA_MARKER.search(requirement)
        if name and extra and extra.group(1) not in NOT_SUGGESTED:
            found.setdefault(normalize(name.group(1)), []).append(extra.group(1))
    return found


def missing_extra_message(
    missing_module: str, command: str, requirements: list[str] | None = None
) -> str | None:
    """What to tell the user when `command` failed to import `missing_module`, or None when no extra of
    aiplane brings it (then the missing module is a broken installation, not a choice of extras)."""
    top = missing_module.split(".")[0]
    distribution = DISTRIBUTION_OF_IMPORT.get(top, normalize(top))
    extras = extras_by_distribution(requirements).get(distribution)
    if not extras:
        return None
    wanted = COMMAND_EXTRAS.get(command)
    extra = wanted if wanted in extras else extras[0]
    return (
        f"`aiplane {command}` needs {distribution} (module {missing_module!r} is not installed), which the "
        f"`{extra}` extra brings: pip install 'aiplane[{extra}]'"
    )
