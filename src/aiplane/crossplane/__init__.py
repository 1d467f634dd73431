"""Crossplane's own behaviour, modelled offline: how a Pipeline Composition's function-patch-and-transform
resources read with their PatchSets expanded (composed), what an XR composes through the Composition it
selects (render) and the Go value semantics P&T applies while doing it (gosemantics). The real engine
(conformance/, `make conformance`) judges this package. The place for engine semantics that synthesis, the guardrails and the audit must agree
on — next the ForceNew data, the adapters to the real Crossplane engine and `plan`; it knows nothing of
aiplane's environments, and of its platform APIs only what function-aiplane's step does (render runs
aiplane.function for it). May import: `aiplane`, `aiplane.function`, `aiplane.validation`."""
