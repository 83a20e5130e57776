"""Launch lts_node: remap its camera and command topics, load config/lts.yaml (or another params file) and run
it with the FastDDS large-frame profile.

  ros2 launch lts_ros lts.launch.py image:=/camera/color/image_raw depth:=/camera/aligned_depth_to_color/image_raw \
      camera_info:=/camera/color/camera_info command:="the red mug"
"""
import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, SetEnvironmentVariable
from launch.conditions import IfCondition, UnlessCondition
from launch.substitutions import LaunchConfiguration, PythonExpression
from launch_ros.actions import LifecycleNode, Node


def generate_launch_description() -> LaunchDescription:
    share = get_package_share_directory("lts_ros")
    arg = LaunchConfiguration
    arguments = [
        DeclareLaunchArgument("namespace", default_value="", description="namespace of the node and its topics"),
        DeclareLaunchArgument("image", default_value="image", description="RGB image topic (sensor_msgs/Image; "
                              "with image_transport compressed, <image>/compressed is read)"),
        DeclareLaunchArgument("depth", default_value="depth", description="depth registered to the RGB camera "
                              "(16UC1 mm or 32FC1 m)"),
        DeclareLaunchArgument("camera_info", default_value="camera_info", description="RGB camera_info topic"),
        DeclareLaunchArgument("command_topic", default_value="command", description="std_msgs/String commands"),
        DeclareLaunchArgument("params_file", default_value=os.path.join(share, "config", "lts.yaml"),
                              description="node parameters (YAML)"),
        DeclareLaunchArgument("backend", default_value="auto", choices=["auto", "torch", "onnxruntime", "openvino", "tensorrt"],
                              description="inference backend"),
        DeclareLaunchArgument("command", default_value="", description="initial command, e.g. 'the red mug'"),
        DeclareLaunchArgument("use_lifecycle", default_value="false", choices=["true", "false"],
                              description="true: wait for a lifecycle manager to configure and activate the "
                              "node; false: it starts itself"),
    ]
    remappings = [("image", arg("image")), ("image/compressed", [arg("image"), "/compressed"]),
                  ("depth", arg("depth")), ("camera_info", arg("camera_info")), ("command", arg("command_topic"))]
    parameters = [arg("params_file"), {
        "backend": arg("backend"),
        "command": arg("command"),
        "autostart": PythonExpression(["'", arg("use_lifecycle"), "' != 'true'"]),
    }]
    node = dict(package="lts_ros", executable="lts_node", name="lts_node", namespace=arg("namespace"),
                parameters=parameters, remappings=remappings, output="screen")
    return LaunchDescription([
        *arguments,
        SetEnvironmentVariable("FASTDDS_DEFAULT_PROFILES_FILE", os.path.join(share, "config", "fastdds.xml")),
        LifecycleNode(**node, condition=IfCondition(arg("use_lifecycle"))),
        Node(**node, condition=UnlessCondition(arg("use_lifecycle"))),
    ])
