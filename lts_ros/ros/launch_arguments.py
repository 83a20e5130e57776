"""Which node parameters ``launch/lts.launch.py`` sets over the params file, in plain Python (no launch import), so
that the rule is tested where launch is not installed.

The params file is the base. A launch argument overrides its parameter only when it was given (on the ``ros2
launch`` command line, or by a launch file that includes this one); an argument left at its default sets nothing,
so ``params_file:=my.yaml`` alone gives exactly my.yaml's values. Given values are checked with the node's own
rules (``ros.params``) so that a mistake stops the launch with the reason instead of starting a node that fails
to configure."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lts_ros.ros.params import BY_NAME

TRUE, FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")

# launch argument -> (node parameter, how the argument's text becomes the parameter's value)
OVERRIDES = {
    "backend": ("backend", str),
    "command": ("command", str),
    "use_sim_time": ("use_sim_time", lambda text: flag("use_sim_time", text)),
    "use_lifecycle": ("autostart", lambda text: not flag("use_lifecycle", text)),  # a manager starts it instead
}


class LaunchArgumentError(ValueError):
    """A launch argument's value the node would refuse, with the reason."""


def flag(name: str, text: str) -> bool:
    """``text`` as a launch file's boolean (true/false, 1/0, yes/no, on/off; any case)."""
    word = text.strip().lower()
    if word in TRUE or word in FALSE:
        return word in TRUE
    raise LaunchArgumentError(f"launch argument {name} must be true or false, got '{text}'")


def node_overrides(given: Mapping[str, str]) -> dict[str, Any]:
    """The parameters to set over the params file, from the launch arguments ``given`` (name -> text; only those
    the user gave). Raises LaunchArgumentError with the reason for a value the node would refuse."""
    overrides = {}
    for argument, (parameter, convert) in OVERRIDES.items():
        if argument not in given:
            continue
        value = convert(given[argument])
        reason = BY_NAME[parameter].validate(value) if parameter in BY_NAME else None
        if reason:
            raise LaunchArgumentError(f"launch argument {argument}: {reason}")
        overrides[parameter] = value
    return overrides


def params_file(path: str) -> str:
    """``path`` when it is a readable file; otherwise LaunchArgumentError (launch_ros only warns and starts the node
    with its defaults, so a typo would silently run another configuration)."""
    if not Path(path).is_file():
        raise LaunchArgumentError(f"launch argument params_file: no such file '{path}'")
    return path
