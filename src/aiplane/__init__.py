"""aiplane: Crossplane v2 platform APIs, Flux GitOps manifests and guardrails for AI infrastructure.

Its subpackages, what each is for and which way they may import: docs/architecture.md."""

__version__ = "0.1.0"
