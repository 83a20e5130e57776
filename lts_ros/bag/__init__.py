"""Bags: the lts_ros layout (format), writing and reading them (io)."""
