"""`aiplane audit`: what drifted from Git, or was created around it, in an environment's AWS account.
declared.py renders the environment's XRs through their Compositions into what AWS should hold; live.py
reads the account (read-only boto3); compare.py and leaks.py turn the two into findings; report.py prints
them. Only live.py talks to AWS, so everything else is tested on plain data. May import:
`aiplane.authoring`, `aiplane.catalog`, `aiplane.console`, `aiplane.crossplane`, `aiplane.function`,
`aiplane.policy`, `aiplane.synthesis`."""
