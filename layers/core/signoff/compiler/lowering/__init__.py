"""One module per node type: how that node becomes states of the state machine."""
