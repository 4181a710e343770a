"""Training: YAML configs, the training loop, checkpoints, evaluation."""
