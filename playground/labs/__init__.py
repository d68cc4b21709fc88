"""Guided labs: lessons over the seed's ideas, each with tasks judged from the model."""
