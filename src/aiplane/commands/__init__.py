"""One module per CLI command (synth, validate, check, cost, plan, audit, ethics_evaluate, ethics_gate, init): a function that takes the parsed
arguments, calls the layers below and returns the exit status; `aiplane.cli` only wires arguments to them.
May import: `aiplane`, `aiplane.audit`, `aiplane.catalog`, `aiplane.console`, `aiplane.crossplane`, `aiplane.errors`,
`aiplane.ethics`, `aiplane.finops`, `aiplane.policy`, `aiplane.project`, `aiplane.revision`, `aiplane.rightsizing`, `aiplane.synthesis`, `aiplane.validation`,
`aiplane.yamlio`."""
