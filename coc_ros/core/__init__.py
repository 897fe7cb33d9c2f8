"""The bottom layer: trace/result types, limits and program parsing. Imports nothing else of coc_ros, so the
sandbox, the engine, the ROS adapters and the benchmarks can all share it without import cycles."""
