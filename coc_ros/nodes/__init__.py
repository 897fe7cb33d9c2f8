"""The node executables: coc_server, lmulator, skill_server, recorder. One module-level Node subclass per module
and a `main()` that spins it; the plumbing they share lives in coc_ros.ros, the process launcher in
coc_ros.launcher.
"""
