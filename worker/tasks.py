"""Tasks of the procrastinate app (rematching, embedding and retraining land here).

The module exists from the start so `import_paths` is stable for deployments.
"""
