"""AWS facts shipped as data, with their sources: EC2 accelerated and SageMaker hosting instance types with
prices and vCPUs, and the EC2 vCPU quota codes per instance class (instances, reading
`aiplane/data/catalog/`), pydantic field types that accept only catalogued instance types (fields), and the
EKS AMI types of accelerated node groups (eks_amis). The bottom layer: every price, quota code and AMI type
has its one source here, so the XRD schemas, the guardrails, the cost report and the audit agree. May
import: nothing from aiplane."""
