"""Cost of what the synthesis declares: worst-case and expected $/h by environment, cost-center and workload
(costing), from the price catalog and each platform API's cost hook — the figures `aiplane cost` reports and
the Pulumi stacks split into budgets (the max-cost-per-hour guardrail reads the same hooks); what a change does
to them (comparison); and their text, JSON and markdown (report). May import:
`aiplane.catalog`, `aiplane.console`, `aiplane.synthesis`."""
