"""Command text -> a structured query (``reader.read_command`` -> ``query.Query``): plain Python, no model or ROS."""
from lts_ros.language.query import Description, Query, Relation, Selection
from lts_ros.language.reader import read_command

__all__ = ["Description", "Query", "Relation", "Selection", "read_command"]
