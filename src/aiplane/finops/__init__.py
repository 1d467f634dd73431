"""Cost of what the synthesis declares: worst-case and expected $/h by environment, cost-center and workload
(costing), from the price catalog and each platform API's cost hook — the figures `aiplane cost` reports and
the Pulumi stacks split into budgets (the max-cost-per-hour guardrail reads the same hooks). May import:
`aiplane.catalog`, `aiplane.synthesis`."""
