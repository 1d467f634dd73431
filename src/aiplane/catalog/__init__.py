"""AWS facts shipped as data, with their sources: EC2 accelerated and SageMaker hosting instance types with
their hardware, their prices and availability per region, and the EC2 vCPU quota codes per instance class
(instances, reading `aiplane/data/catalog/`), the per-region price file format (prices) and how a region's
prices are fetched from AWS's own APIs (refresh), pydantic field types that accept only catalogued instance
types (fields), and the EKS AMI types of accelerated node groups (eks_amis). The bottom layer: every price,
quota code and AMI type has its one source here, so the XRD schemas, the guardrails, the cost report and the
audit agree. May import: `aiplane` (where the package's data files are)."""
