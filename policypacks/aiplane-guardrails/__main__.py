"""The aiplane-guardrails policy pack: every aiplane.policy rule as a CrossGuard policy.

The policies are built by aiplane.policy.crossguard (importable and tested there); this file only finds
the project the pack belongs to and serves the pack. `PolicyPack(...)` starts the gRPC analyzer server,
prints its port and blocks, as the Pulumi CLI expects of `python -m pulumi.policy <engine> <pack-dir>`.
"""

from pathlib import Path

from pulumi_policy import EnforcementLevel, PolicyPack

from aiplane.policy.crossguard import PACK_NAME, build_policies
from aiplane.project import load_settings

PACK_DIR = Path(__file__).resolve().parent

# The project root is the nearest folder above the pack whose pyproject.toml has [tool.aiplane].
settings = load_settings(start=PACK_DIR)

PolicyPack(
    PACK_NAME,
    policies=build_policies(settings),
    # Each policy carries its rule's own default level; this only applies to a policy that had none.
    enforcement_level=EnforcementLevel.MANDATORY,
    description="aiplane FinOps, spot, security and responsible-AI guardrails (same rules as `aiplane check`)",
    readme=(PACK_DIR / "README.md").read_text(encoding="utf-8"),
)
