"""lts_ros: "Locate then Segment" referring segmentation for ROS 2 robots."""

__version__ = "0.1.0"
