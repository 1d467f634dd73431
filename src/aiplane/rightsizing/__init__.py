"""`aiplane rightsize`: utilization history and what it says about each node pool and endpoint. history holds
the one data model every source is read into (hourly samples per workload and canonical metric, shaped so a
forecaster can use it later); cloudwatch, prometheus and export read one source each; recommend turns a
history into recommendations bounded by the safety rails; envfile writes them into environments/<env>.yaml
(ruamel.yaml round trip); report prints them. Costs come from finops, guardrails from policy, AWS access and
the account check from audit. May import: `aiplane.audit`, `aiplane.catalog`, `aiplane.errors`,
`aiplane.finops`, `aiplane.function`, `aiplane.policy`, `aiplane.project`, `aiplane.synthesis`."""
