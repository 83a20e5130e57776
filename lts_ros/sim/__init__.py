"""The simulated robot cell: grasping the object a person names (issue: closed-loop grasping)."""
