"""What the Pulumi programs in the repository's `stacks/` share (environment): one environment synthesized in
process by the same code as `aiplane synth`, its objects by deployment layer, its workloads' costs, the
per-cost-center budget split and the FinOps tags. Pure data with no Pulumi imports, so `aiplane` never
needs the Pulumi SDK; the stacks themselves, and CrossGuard (aiplane.policy.crossguard), live elsewhere.
May import: `aiplane.catalog`, `aiplane.errors`, `aiplane.finops`, `aiplane.project`, `aiplane.synthesis`."""
