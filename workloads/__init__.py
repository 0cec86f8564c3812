"""joulebench's training workloads (one train.py per framework) and their shared code."""
