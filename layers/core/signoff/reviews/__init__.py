"""Human in the loop: the waits a run makes on a person, and what a person does about them.

- waits: the review function's side (a wait starts: "request"; a wait timed out: "expire")
- decisions: deciding a review (approve, revise, edit, submit), exactly once
- variables: a paused run's variables, and edits to them
- history: every attempt and every review round of a run's nodes
- cancel, retry, debug: stopping a run, retrying one from a node, running one node alone
- variants: the state machine variants step mode and retries run on
"""
