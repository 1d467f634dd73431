"""The authoring kit: what `xrds/`, `compositions/` and installed API packages import to declare a platform
API and the Compositions that fulfil it — the `PlatformAPI` descriptor and the spec blocks every API shares
(api), typed function-patch-and-transform helpers (pt), the naming, selection labels and FinOps patch sets
every Composition shares (composing), and the pydantic model → XRD conversion (xrd). Nothing here reads
environments, runs a synthesis or knows a particular platform API; what `xrds/` and `compositions/` may
rely on is listed in docs/architecture.md. May import: `aiplane.catalog`, `aiplane.docstrings`,
`aiplane.errors`, `aiplane.function`, `aiplane.project`."""
