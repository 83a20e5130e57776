"""ROS 2 plumbing over the plain-Python runtime: the lifecycle node, message conversions, QoS, sync."""
