"""The guardrail rules, one per module; each module defines `RULE` (see aiplane.policy.model.Rule)."""
