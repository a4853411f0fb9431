"""The procrastinate app and its tasks. Thin: every task calls into `matching`."""
