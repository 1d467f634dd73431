"""ModelEndpoint on SageMaker with its ethics monitor.

Composes an execution role scoped to the model data and the capture bucket, the Model, an
EndpointConfiguration with data capture (input and output) to the capture bucket, the Endpoint, and
the ethics monitor (docs/ethics.md): a ConfigMap with the evaluator's configuration, a CronJob running the
ethics-monitor image on schedule as a service account that EKS Pod Identity binds to a least-privilege role,
and warning and critical CloudWatch alarms on the breach metric the evaluator publishes (aiplane.ethics.metrics,
the one definition of its names), combined so that one incident pages once.

Every Endpoint is deployed blue/green with auto-rollback on three alarms with fixed names: invocation 5xx
errors and p99 model latency of the production variant (one-minute datapoints, so they decide within the
bake window), and the monitor's rollback request, which the monitor publishes only under `action:
rollback`. The alarm list is ForceNew (src/aiplane/data/forcenew.yaml: the provider refuses to change it in
place), so it never depends on the spec; the thresholds and the bake window are updated in place.
"""

from __future__ import annotations

import json
import re
from typing import Any

from aiplane.authoring.composing import CompositionContext
from aiplane.authoring.formats import ECR_IMAGE_REPOSITORY
from aiplane.authoring.pt import (
    ComposedResource,
    combine_from_xr,
    convert,
    from_xr,
    managed_resource,
    map_values,
    multiply,
    regexp,
    string_format,
    to_json,
    to_xr,
    trim_prefix,
)
from aiplane.ethics.job import (
    CAPTURE_S3_URI,
    DEFAULT_REPORT_PREFIX,
    ENDPOINT_NAME,
    MONITOR_SPEC,
    REGION,
    REPORT_S3_URI,
    TMP_VOLUME_MOUNT,
    VARIANT_NAME,
)
from aiplane.ethics.metrics import (
    CRITICAL,
    FAIRNESS_BREACH,
    NAMESPACE,
    ROLLBACK_REQUESTED,
    SEVERITY,
    WARNING,
    Severity,
)
from aiplane.ethics.metrics import ENDPOINT as ENDPOINT_DIMENSION
from aiplane.ethics.metrics import VARIANT as VARIANT_DIMENSION
from aiplane.function.modelendpoint import (
    APPAUTOSCALING,
    AUTOSCALING_POLICY,
    AUTOSCALING_TARGET,
    ENDPOINT,
    FAIRNESS_DATAPOINTS,
    FAIRNESS_EVALUATION_PERIODS,
    INVOCATIONS_PER_INSTANCE_METRIC,
    KIND,
    ROLLBACK_ALARM_DATAPOINTS,
    ROLLBACK_ALARM_EVALUATION_PERIODS,
    ROLLBACK_ALARM_PERIOD_SECONDS,
    SCALABLE_DIMENSION,
    SCALE_IN_COOLDOWN_SECONDS,
    SCALE_OUT_COOLDOWN_SECONDS,
    SERVICE_NAMESPACE,
)

DEFAULT_VARIANT = "sagemaker"
SAGEMAKER = "sagemaker.aws.m.upbound.io/v1beta1"
# Where the monitor writes its reports in the capture bucket: `reports/<endpoint>/...` (aiplane.ethics.job).
REPORTS_PREFIX = DEFAULT_REPORT_PREFIX
# The production variant keeps one name across deployments: the rollback alarms' dimension.
PRODUCTION_VARIANT = "primary"
# SageMaker endpoint invocation metrics (Amazon SageMaker AI Developer Guide, "Amazon SageMaker AI metrics
# in Amazon CloudWatch", endpoint invocation metrics): namespace AWS/SageMaker, dimensions EndpointName
# and VariantName; Invocation5XXErrors counts 5xx responses (statistic Sum), ModelLatency is in
# microseconds (percentile statistics allowed).
SAGEMAKER_METRICS_NAMESPACE = "AWS/SageMaker"
# The deployment's overall limit: above the largest bake window (3600 s) plus the time to provision the new
# fleet; the provider takes 600-14400 (aws_sagemaker_endpoint maximum_execution_timeout_in_seconds).
DEPLOYMENT_TIMEOUT_SECONDS = 7200
# The alarms SageMaker watches during a deployment, by name suffix (`<endpoint>-<suffix>`).
ROLLBACK_ALARMS = ("invocation-5xx", "model-latency", "fairness-rollback")

SAGEMAKER_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sagemaker.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    },
    sort_keys=True,
)

# Least privilege, in inline policies: read the model artifact only; write captures under the endpoint's
# prefix, with the capture bucket's key through S3 only; pull the image from its repository only; decrypt
# with the model bucket's key through S3 only; write logs. Each is
# a P&T Format string (`%s` placeholders).
READ_MODEL_POLICY_FMT = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadModelData",
                "Effect": "Allow",
                "Action": ["s3:GetObject"],
                "Resource": ["arn:aws:s3:::%s"],
            }
        ],
    },
    sort_keys=True,
)
# The model bucket's key, to decrypt the artifact: cut the bucket out of `s3://<bucket>/<key>`.
MODEL_BUCKET = r"^s3://([^/]+)/"
MODEL_KEY_POLICY_FMT = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ModelBucketKey",
                "Effect": "Allow",
                "Action": ["kms:Decrypt"],
                "Resource": ["*"],
                "Condition": {
                    "StringEquals": {"kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::%s"},
                    "StringLike": {"kms:ViaService": "s3.*.amazonaws.com"},
                },
            }
        ],
    },
    sort_keys=True,
)
# Image pulls only from the image's own repository: the repository path is cut out of the ECR image URI
# (`<account>.dkr.ecr.<region>.amazonaws.com/<repository>[:tag|@digest]`) with a P&T Regexp transform.
PULL_IMAGE_POLICY_FMT = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PullImage",
                "Effect": "Allow",
                "Action": [
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                ],
                "Resource": ["arn:aws:ecr:*:*:repository/%s"],
            }
        ],
    },
    sort_keys=True,
)

# EKS Pod Identity: the pods.eks.amazonaws.com principal assumes the role and tags the session (EKS User
# Guide, "Create an IAM role for a Pod Identity association").
POD_IDENTITY_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "pods.eks.amazonaws.com"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
            }
        ],
    },
    sort_keys=True,
)
# The endpoint's runtime grants; `{marker}`s are XR fields (_policy).
RUNTIME_STATEMENTS: list[dict[str, Any]] = [
    {
        "Sid": "WriteCaptures",
        "Effect": "Allow",
        "Action": ["s3:PutObject"],
        "Resource": ["arn:aws:s3:::{bucket}/{prefix}/*"],
    },
    {
        # ModelBuckets are SSE-KMS with their own keys and S3 Bucket Keys, so S3 asks KMS with the
        # encryption context aws:s3:arn = the bucket's ARN (S3 User Guide, SSE-KMS "Encryption
        # context"): the capture bucket's key, only through S3, only for that bucket (the key ARN is
        # not known before the key exists).
        "Sid": "CaptureBucketKey",
        "Effect": "Allow",
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
        "Resource": ["*"],
        "Condition": {
            "StringEquals": {
                "kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::{bucket}",
                "kms:ViaService": "s3.{region}.amazonaws.com",
            }
        },
    },
    {
        "Sid": "EcrToken",
        "Effect": "Allow",
        "Action": ["ecr:GetAuthorizationToken"],
        "Resource": ["*"],
    },
    {
        "Sid": "Logs",
        "Effect": "Allow",
        "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": ["arn:aws:logs:*:*:log-group:/aws/sagemaker/*"],
    },
]
# SageMaker reads the rollback alarms' state with the endpoint's execution role (Amazon SageMaker AI Developer
# Guide, "Auto-Rollback Configuration and Monitoring": the role needs cloudwatch:DescribeAlarms on the
# auto-rollback alarms): the grant names the endpoint's alarms by ARN prefix.
DESCRIBE_ALARMS_STATEMENTS: list[dict[str, Any]] = [
    {
        "Sid": "DescribeRollbackAlarms",
        "Effect": "Allow",
        "Action": ["cloudwatch:DescribeAlarms"],
        "Resource": ["arn:aws:cloudwatch:{region}:*:alarm:{env}-{name}-*"],
    }
]


def endpoint_name(ctx: CompositionContext) -> tuple[str, list[str]]:
    """Endpoint name: `<environment>-<xr name>` (format and XR field paths)."""
    return "%s-%s", [ctx.environment_name_path(), "metadata.name"]


def _policy(statements: list[dict[str, Any]], fields: dict[str, str]) -> tuple[str, list[str]]:
    """An IAM policy document as a P&T Format string and the XR paths of its placeholders, in the order they
    appear: each `{marker}` in the statements (the keys of `fields`) becomes `%s`. Keys are sorted, so the
    order is the document's, whatever order the statements were written in."""
    text = json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)
    order = re.findall(r"\{(" + "|".join(map(re.escape, fields)) + r")\}", text)
    return re.sub(r"\{(" + "|".join(map(re.escape, fields)) + r")\}", "%s", text), [fields[m] for m in order]


def policy_fields(ctx: CompositionContext) -> dict[str, str]:
    """The XR fields the policy documents' `{marker}`s stand for; `{env}-{name}` is the endpoint's name."""
    env, name = endpoint_name(ctx)[1]
    return {"bucket": "spec.bucketRef.bucketName", "prefix": "spec.dataCapture.prefix", "region": "spec.region",
            "env": env, "name": name, "truth": "spec.ethicsMonitor.groundTruth.prefix"}


def execution_role(ctx: CompositionContext) -> ComposedResource:
    fields = policy_fields(ctx)
    return ctx.aws_resource(
        "execution-role",
        managed_resource(
            "iam.aws.m.upbound.io/v1beta1",
            "Role",
            {
                "assumeRolePolicy": SAGEMAKER_TRUST,
                "inlinePolicy": [
                    {"name": "read-model-data"},
                    {"name": "endpoint-runtime"},
                    {"name": "pull-image"},
                    {"name": "model-bucket-key"},
                    {"name": "describe-rollback-alarms"},
                ],
                "tags": ctx.aws_tags(),
            },
            labels=ctx.part_labels("execution-role"),
        ),
        from_xr(
            "spec.modelDataUrl",
            "spec.forProvider.inlinePolicy[0].policy",
            trim_prefix("s3://"),
            string_format(READ_MODEL_POLICY_FMT),
            required=True,
        ),
        combine_from_xr(*_policy(RUNTIME_STATEMENTS, fields), "spec.forProvider.inlinePolicy[1].policy"),
        from_xr(
            "spec.image",
            "spec.forProvider.inlinePolicy[2].policy",
            regexp(ECR_IMAGE_REPOSITORY, 1),
            string_format(PULL_IMAGE_POLICY_FMT),
            required=True,
        ),
        from_xr(
            "spec.modelDataUrl",
            "spec.forProvider.inlinePolicy[3].policy",
            regexp(MODEL_BUCKET, 1),
            string_format(MODEL_KEY_POLICY_FMT),
            required=True,
        ),
        combine_from_xr(*_policy(DESCRIBE_ALARMS_STATEMENTS, fields), "spec.forProvider.inlinePolicy[4].policy"),
        regional=False,
    )


def model(ctx: CompositionContext) -> ComposedResource:
    return ctx.aws_resource(
        "model",
        managed_resource(
            SAGEMAKER,
            "Model",
            {
                "executionRoleArnSelector": ctx.sibling("execution-role"),
                "primaryContainer": {"mode": "SingleModel"},
                "enableNetworkIsolation": True,
                "tags": ctx.aws_tags(),
            },
            labels=ctx.part_labels("model"),
        ),
        from_xr("spec.image", "spec.forProvider.primaryContainer.image", required=True),
        from_xr("spec.modelDataUrl", "spec.forProvider.primaryContainer.modelDataUrl", required=True),
    )


def endpoint_configuration(ctx: CompositionContext) -> ComposedResource:
    return ctx.aws_resource(
        "endpoint-config",
        managed_resource(
            SAGEMAKER,
            "EndpointConfiguration",
            {
                "productionVariants": [
                    {
                        "variantName": PRODUCTION_VARIANT,
                        "modelNameSelector": ctx.sibling("model"),
                        "initialVariantWeight": 1,
                    }
                ],
                # Capture is not optional: without captured traffic the ethics monitor is blind.
                "dataCaptureConfig": {
                    "enableCapture": True,
                    "initialSamplingPercentage": 100,
                    "captureOptions": [{"captureMode": "Input"}, {"captureMode": "Output"}],
                    "captureContentTypeHeader": {"jsonContentTypes": ["application/json"]},
                },
                "tags": ctx.aws_tags(),
            },
            labels=ctx.part_labels("endpoint-config"),
        ),
        from_xr("spec.instanceType", "spec.forProvider.productionVariants[0].instanceType", required=True),
        from_xr("spec.instanceCount", "spec.forProvider.productionVariants[0].initialInstanceCount"),
        from_xr(
            "spec.dataCapture.samplingPercent", "spec.forProvider.dataCaptureConfig.initialSamplingPercentage"
        ),
        combine_from_xr(
            "s3://%s/%s",
            ["spec.bucketRef.bucketName", "spec.dataCapture.prefix"],
            "spec.forProvider.dataCaptureConfig.destinationS3Uri",
        ),
    )


def endpoint(ctx: CompositionContext) -> ComposedResource:
    fmt, paths = endpoint_name(ctx)
    for_provider: dict[str, Any] = {
        "endpointConfigNameSelector": ctx.sibling("endpoint-config"),
        "tags": ctx.aws_tags(),
        # Every deployment (a new endpoint configuration) is blue/green: all traffic moves to the new fleet,
        # which bakes for rollout.bakeSeconds while SageMaker watches the rollback alarms.
        "deploymentConfig": {
            "blueGreenUpdatePolicy": {
                "trafficRoutingConfiguration": {"type": "ALL_AT_ONCE"},
                "maximumExecutionTimeoutInSeconds": DEPLOYMENT_TIMEOUT_SECONDS,
            },
            "autoRollbackConfiguration": {"alarms": [{} for _ in ROLLBACK_ALARMS]},
        },
    }
    patches = [
        ctx.external_name(fmt, *paths),
        to_xr("metadata.annotations[crossplane.io/external-name]", "status.endpointName"),
        to_xr("status.atProvider.arn", "status.endpointArn"),
        from_xr(
            "spec.rollout.bakeSeconds",
            "spec.forProvider.deploymentConfig.blueGreenUpdatePolicy.trafficRoutingConfiguration"
            ".waitIntervalInSeconds",
        ),
        *(
            combine_from_xr(
                f"{fmt}-{suffix}",
                paths,
                f"spec.forProvider.deploymentConfig.autoRollbackConfiguration.alarms[{index}].alarmName",
            )
            for index, suffix in enumerate(ROLLBACK_ALARMS)
        ),
    ]
    return ctx.aws_resource(
        ENDPOINT,
        managed_resource(SAGEMAKER, "Endpoint", for_provider, labels=ctx.part_labels("endpoint")),
        *patches,
    )


def _rollback_alarm(ctx: CompositionContext, suffix: str, base: dict[str, Any], *patches: dict[str, Any]) -> ComposedResource:
    """A metric alarm the Endpoint's auto-rollback watches: one-minute datapoints, ALARM on 2 of the last 3,
    no data (no traffic) is not breaching."""
    fmt, paths = endpoint_name(ctx)
    return ctx.aws_resource(
        f"rollback-{suffix}",
        managed_resource(
            "cloudwatch.aws.m.upbound.io/v1beta1",
            "MetricAlarm",
            {
                "period": ROLLBACK_ALARM_PERIOD_SECONDS,
                "evaluationPeriods": ROLLBACK_ALARM_EVALUATION_PERIODS,
                "datapointsToAlarm": ROLLBACK_ALARM_DATAPOINTS,
                "comparisonOperator": "GreaterThanThreshold",
                "treatMissingData": "notBreaching",
                **base,
                "tags": ctx.aws_tags(),
            },
            labels=ctx.part_labels(f"rollback-{suffix}"),
        ),
        ctx.external_name(f"{fmt}-{suffix}", *paths),
        *patches,
    )


def rollback_alarms(ctx: CompositionContext) -> list[ComposedResource]:
    fmt, paths = endpoint_name(ctx)
    variant = {"VariantName": PRODUCTION_VARIANT}
    endpoint_dimension = combine_from_xr(fmt, paths, "spec.forProvider.dimensions[EndpointName]")
    return [
        _rollback_alarm(
            ctx,
            "invocation-5xx",
            {
                "namespace": SAGEMAKER_METRICS_NAMESPACE,
                "metricName": "Invocation5XXErrors",
                "statistic": "Sum",
                "dimensions": variant,
                "alarmDescription": "aiplane rollout: 5xx responses of the production variant; rolls a deployment back",
            },
            endpoint_dimension,
            from_xr("spec.rollout.maxErrorsPerMinute", "spec.forProvider.threshold"),
        ),
        _rollback_alarm(
            ctx,
            "model-latency",
            {
                "namespace": SAGEMAKER_METRICS_NAMESPACE,
                "metricName": "ModelLatency",
                "extendedStatistic": "p99",
                "dimensions": variant,
                "alarmDescription": "aiplane rollout: p99 model latency of the production variant; rolls a deployment back",
            },
            endpoint_dimension,
            # ModelLatency is in microseconds.
            from_xr("spec.rollout.maxModelLatencyMs", "spec.forProvider.threshold", multiply(1000)),
        ),
        _rollback_alarm(
            ctx,
            "fairness-rollback",
            {
                "namespace": NAMESPACE,
                "metricName": ROLLBACK_REQUESTED.name,
                "statistic": ROLLBACK_REQUESTED.statistic,
                "dimensions": {VARIANT_DIMENSION: PRODUCTION_VARIANT},
                "threshold": 0,
                # The monitor's datapoint arrives once per run: ALARM on the first breach.
                "evaluationPeriods": 1,
                "datapointsToAlarm": 1,
                "alarmDescription": "aiplane ethics monitor: a fairness breach under action rollback; rolls a deployment back",
            },
            combine_from_xr(fmt, paths, f"spec.forProvider.dimensions[{ENDPOINT_DIMENSION}]"),
        ),
    ]


def monitor_config(ctx: CompositionContext) -> ComposedResource:
    """The evaluator's whole configuration, as the environment variables it reads (aiplane.ethics.job),
    which the CronJob takes with envFrom."""
    fmt, paths = endpoint_name(ctx)
    return ctx.kubernetes_resource(
        "ethics-monitor-config",
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "labels": {**ctx.part_labels("ethics-monitor"), "app.kubernetes.io/name": "ethics-monitor"}
            },
            "data": {VARIANT_NAME: PRODUCTION_VARIANT},
        },
        combine_from_xr("%s-ethics-monitor", ["metadata.name"], "metadata.name"),
        combine_from_xr(fmt, paths, f"data[{ENDPOINT_NAME}]"),
        combine_from_xr(
            "s3://%s/%s", ["spec.bucketRef.bucketName", "spec.dataCapture.prefix"], f"data[{CAPTURE_S3_URI}]"
        ),
        from_xr(
            "spec.bucketRef.bucketName",
            f"data[{REPORT_S3_URI}]",
            string_format(f"s3://%s/{REPORTS_PREFIX}"),
        ),
        from_xr("spec.ethicsMonitor", f"data[{MONITOR_SPEC}]", to_json(), required=True),
        from_xr("spec.region", f"data[{REGION}]"),
    )


def monitor_cronjob(ctx: CompositionContext) -> ComposedResource:
    """Runs the evaluator on schedule: the image's entry point with no arguments, configured by the
    ConfigMap, as the service account Pod Identity binds to the monitor's role; read-only root filesystem
    with a writable /tmp."""
    container = {
        "name": "ethics-monitor",
        "image": ctx.settings.ethics_monitor_image,
        "envFrom": [{"configMapRef": {}}],
        "volumeMounts": [{"name": "tmp", "mountPath": TMP_VOLUME_MOUNT}],
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "resources": {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"memory": "2Gi"}},
    }
    return ctx.kubernetes_resource(
        "ethics-monitor",
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": {
                "labels": {**ctx.part_labels("ethics-monitor"), "app.kubernetes.io/name": "ethics-monitor"}
            },
            "spec": {
                "schedule": "0 * * * *",
                "concurrencyPolicy": "Forbid",
                "successfulJobsHistoryLimit": 3,
                "failedJobsHistoryLimit": 3,
                "jobTemplate": {
                    "spec": {
                        # Exit 1 is AWS refusing or unreachable: worth a retry; a breach exits 0.
                        "backoffLimit": 2,
                        "template": {
                            "spec": {
                                "restartPolicy": "Never",
                                "containers": [container],
                                "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}],
                            }
                        },
                    }
                },
            },
        },
        combine_from_xr("%s-ethics-monitor", ["metadata.name"], "metadata.name"),
        from_xr("spec.ethicsMonitor.schedule", "spec.schedule"),
        from_xr(
            "spec.ethicsMonitor.enabled",
            "spec.suspend",
            convert("string"),
            map_values({"true": False, "false": True}),
        ),
        combine_from_xr(
            "%s-ethics-monitor",
            ["metadata.name"],
            "spec.jobTemplate.spec.template.spec.containers[0].envFrom[0].configMapRef.name",
        ),
        combine_from_xr(
            "%s-ethics-monitor", ["metadata.name"], "spec.jobTemplate.spec.template.spec.serviceAccountName"
        ),
    )


def monitor_service_account(ctx: CompositionContext) -> ComposedResource:
    """The identity the monitor runs as; the Pod Identity association binds it to the monitor's role."""
    return ctx.kubernetes_resource(
        "ethics-monitor-sa",
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {
                "labels": {**ctx.part_labels("ethics-monitor"), "app.kubernetes.io/name": "ethics-monitor"}
            },
        },
        combine_from_xr("%s-ethics-monitor", ["metadata.name"], "metadata.name"),
    )


def monitor_role(ctx: CompositionContext) -> ComposedResource:
    """The monitor's least privilege: list and read the endpoint's captures (and its ground truth, when the
    spec names a prefix: function-aiplane drops that policy otherwise), write its reports, the capture
    bucket's key only through S3, publish metrics only in the monitor's namespace."""
    endpoint = "{env}-{name}"
    fields = policy_fields(ctx)

    def read(sid: str, prefix: str) -> list[dict[str, Any]]:
        return [
            {"Sid": f"List{sid}", "Effect": "Allow", "Action": ["s3:ListBucket"],
             "Resource": ["arn:aws:s3:::{bucket}"], "Condition": {"StringLike": {"s3:prefix": [f"{prefix}/*"]}}},
            {"Sid": f"Read{sid}", "Effect": "Allow", "Action": ["s3:GetObject"],
             "Resource": [f"arn:aws:s3:::{{bucket}}/{prefix}/*"]},
        ]

    captures = _policy(read("Captures", "{prefix}/" + endpoint), fields)
    truth = _policy(read("GroundTruth", "{truth}"), fields)
    reports = _policy(
        [{"Sid": "WriteReports", "Effect": "Allow", "Action": ["s3:PutObject"],
          "Resource": [f"arn:aws:s3:::{{bucket}}/{REPORTS_PREFIX}/{endpoint}/*"]}],
        fields,
    )
    # ModelBuckets are SSE-KMS with S3 Bucket Keys: S3 asks KMS with the context aws:s3:arn = the bucket's ARN
    # (S3 User Guide, SSE-KMS "Encryption context"), as for the endpoint's execution role above.
    bucket_key = _policy(
        [{"Sid": "CaptureBucketKey", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
          "Resource": ["*"], "Condition": {"StringEquals": {
              "kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::{bucket}",
              "kms:ViaService": "s3.{region}.amazonaws.com"}}}],
        fields,
    )
    # PutMetricData has no resource; the cloudwatch:namespace condition key limits it (CloudWatch User Guide,
    # "Using condition keys to limit access to CloudWatch namespaces").
    metrics_policy = json.dumps(
        {"Version": "2012-10-17", "Statement": [
            {"Sid": "PublishMonitorMetrics", "Effect": "Allow", "Action": ["cloudwatch:PutMetricData"],
             "Resource": ["*"], "Condition": {"StringEquals": {"cloudwatch:namespace": NAMESPACE}}}]},
        sort_keys=True,
    )
    return ctx.aws_resource(
        "ethics-monitor-role",
        managed_resource(
            "iam.aws.m.upbound.io/v1beta1",
            "Role",
            {
                "assumeRolePolicy": POD_IDENTITY_TRUST,
                "inlinePolicy": [
                    {"name": "read-captures"},
                    {"name": "read-ground-truth"},
                    {"name": "write-reports"},
                    {"name": "capture-bucket-key"},
                    {"name": "publish-metrics", "policy": metrics_policy},
                ],
                "tags": ctx.aws_tags(),
            },
            labels=ctx.part_labels("ethics-monitor-role"),
        ),
        combine_from_xr(captures[0], captures[1], "spec.forProvider.inlinePolicy[0].policy"),
        # Optional: without a ground-truth prefix the policy stays unfilled, and function-aiplane drops it.
        combine_from_xr(truth[0], truth[1], "spec.forProvider.inlinePolicy[1].policy", required=False),
        combine_from_xr(reports[0], reports[1], "spec.forProvider.inlinePolicy[2].policy"),
        combine_from_xr(bucket_key[0], bucket_key[1], "spec.forProvider.inlinePolicy[3].policy"),
        regional=False,
    )


def monitor_pod_identity(ctx: CompositionContext) -> ComposedResource:
    """Binds the monitor's service account, in the XR's namespace on the environment's cluster, to its role
    (EKS Pod Identity; the cluster needs the eks-pod-identity-agent add-on, which the foundation stack
    installs)."""
    return ctx.aws_resource(
        "ethics-monitor-identity",
        managed_resource(
            "eks.aws.m.upbound.io/v1beta1",
            "PodIdentityAssociation",
            {"roleArnSelector": ctx.sibling("ethics-monitor-role"), "tags": ctx.aws_tags()},
            labels=ctx.part_labels("ethics-monitor-identity"),
        ),
        from_xr("spec.clusterName", "spec.forProvider.clusterName", required=True),
        from_xr("metadata.namespace", "spec.forProvider.namespace", required=True),
        combine_from_xr("%s-ethics-monitor", ["metadata.name"], "spec.forProvider.serviceAccount"),
    )


def _fairness_alarm(ctx: CompositionContext, severity: Severity, *patches: dict[str, Any]) -> ComposedResource:
    """FairnessBreach of one severity, M of N (function-aiplane sizes the period to the schedule's longest gap:
    one datapoint per run): one breaching run does not alarm, two of the last three do. Missing data (no run,
    or insufficient data, which publishes no breach datapoint) is not breaching, and notifies nobody."""
    fmt, paths = endpoint_name(ctx)
    return ctx.aws_resource(
        f"fairness-{severity}",
        managed_resource(
            "cloudwatch.aws.m.upbound.io/v1beta1",
            "MetricAlarm",
            {
                "namespace": NAMESPACE,
                "metricName": FAIRNESS_BREACH.name,
                "statistic": FAIRNESS_BREACH.statistic,
                "dimensions": {VARIANT_DIMENSION: PRODUCTION_VARIANT, SEVERITY: severity},
                "period": 3600,
                "evaluationPeriods": FAIRNESS_EVALUATION_PERIODS,
                "datapointsToAlarm": FAIRNESS_DATAPOINTS,
                "threshold": 0,
                "comparisonOperator": "GreaterThanThreshold",
                "treatMissingData": "notBreaching",
                "alarmDescription": f"aiplane ethics monitor: {severity} fairness bounds breached",
                "tags": ctx.aws_tags(),
            },
            labels=ctx.part_labels(f"fairness-{severity}"),
        ),
        ctx.external_name(f"{fmt}-fairness-{severity}", *paths),
        combine_from_xr(fmt, paths, f"spec.forProvider.dimensions[{ENDPOINT_DIMENSION}]"),
        *patches,
    )


def monitor_alarms(ctx: CompositionContext) -> list[ComposedResource]:
    """Critical pages alertTarget; warning notifies warningTarget only while critical is not in ALARM
    (a CompositeAlarm), so one incident pages once."""
    fmt, paths = endpoint_name(ctx)
    critical = _fairness_alarm(
        ctx, CRITICAL,
        from_xr("spec.ethicsMonitor.alertTarget", "spec.forProvider.alarmActions[0]", required=True),
    )
    warning = _fairness_alarm(ctx, WARNING)
    rule = f'ALARM("{fmt}-fairness-{WARNING}") AND NOT ALARM("{fmt}-fairness-{CRITICAL}")'
    escalation = ctx.aws_resource(
        "fairness-warning-only",
        managed_resource(
            "cloudwatch.aws.m.upbound.io/v1beta1",
            "CompositeAlarm",
            {
                "alarmDescription": "aiplane ethics monitor: warning bounds breached, critical ones not",
                "tags": ctx.aws_tags(),
            },
            labels=ctx.part_labels("fairness-warning-only"),
        ),
        ctx.external_name(f"{fmt}-fairness-warning-only", *paths),
        combine_from_xr(rule, [*paths, *paths], "spec.forProvider.alarmRule"),
        # warningTarget, else alertTarget: the second patch wins when it applies.
        from_xr("spec.ethicsMonitor.alertTarget", "spec.forProvider.alarmActions[0]", required=True),
        from_xr("spec.ethicsMonitor.warningTarget", "spec.forProvider.alarmActions[0]"),
    )
    return [critical, warning, escalation]


def autoscaling(ctx: CompositionContext) -> list[ComposedResource]:
    """Application Auto Scaling of the production variant, only with `spec.autoscaling`: the scalable target
    `endpoint/<endpoint>/variant/primary` and a target-tracking policy on invocations per instance. The
    patches are Optional and function-aiplane leaves both out without `spec.autoscaling`: a Required patch
    would have P&T skip them, and P&T then holds the XR not Ready for good (the real engine showed an endpoint
    without autoscaling never becoming Ready). function-aiplane registers the target only once the
    endpoint serves, adds one ScheduledAction per `autoscaling.schedule` entry (P&T cannot iterate), and
    deregisters the target around an instance type change (SageMaker refuses that update on a registered
    variant)."""
    fmt, paths = endpoint_name(ctx)
    target = ctx.aws_resource(
        AUTOSCALING_TARGET,
        managed_resource(
            APPAUTOSCALING,
            "Target",
            {"serviceNamespace": SERVICE_NAMESPACE, "scalableDimension": SCALABLE_DIMENSION, "tags": ctx.aws_tags()},
            labels=ctx.part_labels(AUTOSCALING_TARGET),
        ),
        combine_from_xr(f"endpoint/{fmt}/variant/{PRODUCTION_VARIANT}", paths, "spec.forProvider.resourceId"),
        from_xr("spec.autoscaling.minInstances", "spec.forProvider.minCapacity", required=False),
        from_xr("spec.autoscaling.maxInstances", "spec.forProvider.maxCapacity", required=False),
    )
    sibling = ctx.sibling(AUTOSCALING_TARGET)
    policy = ctx.aws_resource(
        AUTOSCALING_POLICY,
        managed_resource(
            APPAUTOSCALING,
            "Policy",
            {
                "policyType": "TargetTrackingScaling",
                "resourceIdSelector": sibling,
                "scalableDimensionSelector": sibling,
                "serviceNamespaceSelector": sibling,
                "targetTrackingScalingPolicyConfiguration": {
                    "predefinedMetricSpecification": {"predefinedMetricType": INVOCATIONS_PER_INSTANCE_METRIC},
                    "scaleInCooldown": SCALE_IN_COOLDOWN_SECONDS,
                    "scaleOutCooldown": SCALE_OUT_COOLDOWN_SECONDS,
                },
            },
            labels=ctx.part_labels(AUTOSCALING_POLICY),
        ),
        ctx.external_name(f"{fmt}-invocations", *paths),
        from_xr(
            "spec.autoscaling.targetInvocationsPerInstance",
            "spec.forProvider.targetTrackingScalingPolicyConfiguration.targetValue",
            required=False,
        ),
    )
    return [target, policy]


def compositions(ctx: CompositionContext) -> list[dict[str, Any]]:
    resources = [
        execution_role(ctx),
        model(ctx),
        endpoint_configuration(ctx),
        endpoint(ctx),
        monitor_config(ctx),
        monitor_service_account(ctx),
        monitor_cronjob(ctx),
        monitor_role(ctx),
        monitor_pod_identity(ctx),
        *monitor_alarms(ctx),
        *rollback_alarms(ctx),
        *autoscaling(ctx),
    ]
    return [ctx.composition(KIND, DEFAULT_VARIANT, resources)]
