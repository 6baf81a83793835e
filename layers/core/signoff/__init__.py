"""signoff: Dify-style workflow graphs on AWS Step Functions; a human may step in at any node."""

__version__ = "0.1.0"
