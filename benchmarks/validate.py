"""How fast is `aiplane validate` compared with merely parsing the same YAML?

Generates 1,000 and 10,000 valid objects across the shipped kinds (managed resources, XRs, an XRD,
Compositions with patch-and-transform pipelines, Flux and Crossplane package objects, a CronJob), dumps
them as one multi-document YAML text, then times in the same process:
  parse     PyYAML's C loader (yaml.load_all with CSafeLoader): merely parsing, the baseline
  read      load_documents_from_text, as `aiplane validate` reads files (the strict loader, which since
            its plain path reads libyaml's events directly is faster than the baseline; printed beside)
  validate  validate_documents: schema (after defaults) + CEL + Composition/P&T + XRD checks
The goal is validate/parse <= 1.0 and 10,000 objects in under 3 s on a 2-core machine. The first
validation of a run includes compiling each kind's schema once; the warm figure is the best of 3.

    .venv/bin/python benchmarks/validate.py [--sizes 1000 10000]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import yaml
from _workload import best_of, objects

from aiplane.validation import SchemaRegistry, validate_documents
from aiplane.yamlio import dump_all, load_documents_from_text


def measure(n: int, runs: int) -> None:
    text = dump_all(objects(n))
    parse_s, _ = best_of(runs, lambda: list(yaml.load_all(text, Loader=yaml.CSafeLoader)))
    read_s, docs = best_of(runs, lambda: load_documents_from_text(text, "bench.yaml"))
    first_s, report = best_of(1, lambda: validate_documents(docs, SchemaRegistry.default()))
    warm_s, report = best_of(runs, lambda: validate_documents(docs, SchemaRegistry.default()))
    counts = report.counts
    if counts["error"] or counts["not-evaluated"] or counts["no-schema"]:
        raise SystemExit(f"benchmark objects are not all valid: {report.summary()}")
    print(
        f"{n:>6} objects  {len(text) / 1e6:5.1f} MB  parse {parse_s:6.3f} s ({n / parse_s:8.0f}/s)  "
        f"read {read_s:6.3f} s  "
        f"validate first {first_s:6.3f} s  warm {warm_s:6.3f} s ({n / warm_s:8.0f}/s)  "
        f"validate/parse {warm_s / parse_s:4.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    for n in args.sizes:
        measure(n, args.runs)


if __name__ == "__main__":
    main()
