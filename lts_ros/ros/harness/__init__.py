"""This process's side of a real ROS 2 graph around lts_node, for the tests, the benchmarks, bag replay and the
simulated cell: ``domain`` (an isolated DDS domain), ``node_process`` (lts_node in a process of its own),
``participant`` (this process's node and executor), ``camera`` (a camera driver's publishers) and ``recorder``
(lts_node's outputs by stamp)."""
