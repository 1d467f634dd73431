"""The ethics monitor's evaluator: fairness of a model's predictions per sensitive attribute, judged against
thresholds from Git. The monitor's configuration, which the ModelEndpoint XRD embeds (spec), the CloudWatch
metrics it publishes, which the Composition's alarms watch (metrics), SageMaker Data Capture and Model Monitor
ground truth in S3 or a local copy (capture), locating attributes and predictions in a payload (extract),
the fairlearn metrics with bootstrap intervals (fairness), the breach rule (decision), the run report and
its publication (report), and the pre-deployment gate's reports (gate). Kept apart from the synthesis so
that the monitor's image needs none of it: spec and metrics import only pydantic, the standard library and
aiplane.docstrings, the rest numpy, pandas, fairlearn and boto3 (the `monitor` extra). May import:
`aiplane.docstrings`, `aiplane.errors`."""
