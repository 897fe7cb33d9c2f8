"""rclpy plumbing shared by the node executables (coc_ros.nodes), the CLI, the benchmarks and the tests.

names (topics and services), qos, messages (engine types <-> ROS messages), heartbeat (liveness of a server
instance), service_call (one service call with heartbeat, cancel, lost-request detection), remote (the engine's
LLM / LMulator / skill backend over those calls), goal_client (the action client of the CLI), bag (rosbags types).
"""
