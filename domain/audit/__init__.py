"""What the history says about itself: checkpoints of the chain head."""
