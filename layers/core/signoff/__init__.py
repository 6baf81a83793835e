"""signoff: Dify-style workflow graphs on AWS Step Functions, with a human able to step in at any node."""

__version__ = "0.1.0"
