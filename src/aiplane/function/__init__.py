"""aiplane's own composition function (function-aiplane): the logic a Pipeline Composition needs beyond
function-patch-and-transform, which composes a fixed list and cannot branch. P&T composes every resource an
API can need; this step, run after it, lets the XR's spec alone decide what exists and how (capacity,
KMS key mode, rollback), and drives the quota request from observed state.

The logic modules (one per platform API, plus `model` and `logic`) are plain Python on plain dicts, so the
same code runs in three places: served over gRPC in the function image (`server`, `__main__`, which alone
import crossplane-function-sdk-python, installed by the `function` extra), in process inside aiplane's
offline renderer (`aiplane.crossplane.render`), and in the conformance suite behind the real Crossplane
core. May import: nothing of aiplane (the image stays small and the renderer can use it)."""
