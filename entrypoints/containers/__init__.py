"""The parts of the object graph, one sub-container each, connected by entrypoints/container.py."""
