"""Validation of Kubernetes objects against the real schemas: CRD/XRD/built-in structural schemas with
Kubernetes semantics, CEL `x-kubernetes-validations` rules, and the Crossplane checks (Composition pipelines,
patch paths against the XRD and managed-resource schemas, XRD rules), with Crossplane's field-path syntax
(fieldpath). It judges any object, however it was made, so it knows nothing of how aiplane synthesizes;
what most callers need is re-exported here. May import: `aiplane.errors`, `aiplane.yamlio`."""

from aiplane.validation.checker import apply_defaults, validate_object
from aiplane.validation.documents import validate_documents
from aiplane.validation.findings import Finding, Location, Severity
from aiplane.validation.kinds import KindSchema
from aiplane.validation.registry import SchemaRegistry
from aiplane.validation.report import ValidationReport

__all__ = [
    "Finding",
    "KindSchema",
    "Location",
    "SchemaRegistry",
    "Severity",
    "ValidationReport",
    "apply_defaults",
    "validate_documents",
    "validate_object",
]
