"""What each node type does at run time: `run_node` (runtime.py) and one module per node type."""
