"""aiplane: Crossplane v2 platform APIs, Flux GitOps manifests and guardrails for AI infrastructure."""

__version__ = "0.1.0"
