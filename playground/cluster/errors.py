"""The one error the Cluster's actions raise."""


class ClusterError(ValueError):
    """One line saying what was wrong; nothing was changed."""
