"""A learner's session: the cluster, the commands they ran (the journal), a lesson's progress
and the app's layout. Lab files (playground/saves.py) write and read it."""
