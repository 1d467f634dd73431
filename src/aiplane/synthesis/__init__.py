"""The main job: `xrds/`, `compositions/` and `environments/*.yaml` → the manifests/ tree. Finding the
platform APIs and Compositions (discovery), reading environment files (environment, positions) and the
environment record ConfigMap (environment_record), building the shared platform layer (platform), the XRs
(xr) and the Flux Kustomizations (gitops), packaging through cdk8s (cdk8s_app), the whole run in memory
(pipeline), and writing or checking manifests/ atomically (manifest_tree); beside it, the environment files'
JSON Schema (environment_schema) and the API reference (api_docs), written and checked with it (project_files). Every consumer of synthesized
objects — validation of the output, the guardrails, cost, the audit, the Pulumi stacks — sits above it.
May import: `aiplane`, `aiplane.authoring`, `aiplane.catalog`, `aiplane.crossplane`, `aiplane.errors`,
`aiplane.ethics`, `aiplane.function`, `aiplane.project`, `aiplane.pycache`, `aiplane.validation`,
`aiplane.yamlio`."""
