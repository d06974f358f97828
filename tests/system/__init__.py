"""System tests: the reference application run for real on this machine."""
