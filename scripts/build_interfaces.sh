#!/usr/bin/env bash
# Generate the coc_ros ROS interfaces (msg/srv/action) with rosidl and install them into a venv's ROS prefix.
# The PyPI ROS wheels' CMake files hard-code the wheel builder's Python and numpy include dirs; point them at
# this venv's first. Skips the build when the interface files have not changed since the last one.
set -euo pipefail
VENV=$(cd "${1:?usage: build_interfaces.sh VENV}" && pwd)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYBIN="$VENV/bin/python3"
stamp="$VENV/.coc_ros_interfaces.sha256"
sum=$(cat "$ROOT"/CMakeLists.txt "$ROOT"/package.xml "$ROOT"/msg/*.msg "$ROOT"/srv/*.srv "$ROOT"/action/*.action | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ] && "$PYBIN" -c "import coc_ros.msg" 2>/dev/null; then
  echo "[interfaces] up to date"; exit 0
fi
pyinc=$("$PYBIN" -c "import sysconfig; print(sysconfig.get_paths()['include'])")
npinc=$("$PYBIN" -c "import numpy; print(numpy.get_include())")
grep -rlE "/opt/python/cp311-cp311/include/python3.11|numpy/_core/include|numpy/core/include" "$VENV/share" --include=*.cmake 2>/dev/null | while read -r f; do
  sed -i -E "s#/opt/python/cp311-cp311/include/python3\.11#${pyinc}#g; s#[^;\" ]*/site-packages/numpy/(_core|core)/include#${npinc}#g" "$f"
done
# The generated Python package `coc_ros` (msg/srv/action) goes to its own directory, appended to sys.path by a
# .pth file that sorts after the editable install's: the source tree's coc_ros/ is found first and its
# __init__ extends __path__ to the generated subpackages.
pydir=lib/coc_ros_interfaces
site=$("$PYBIN" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
rm -rf "$site/coc_ros"  # a generated package here would shadow the sources
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
export CMAKE_PREFIX_PATH="$VENV" AMENT_PREFIX_PATH="$VENV" PATH="$VENV/bin:$PATH"
cmake -S "$ROOT" -B "$build" -DCMAKE_INSTALL_PREFIX="$VENV" -DPython3_EXECUTABLE="$PYBIN" \
  -DBUILD_TESTING=OFF -DCOC_ROS_INSTALL_PYTHON=OFF -DPYTHON_INSTALL_DIR="$pydir" -DCMAKE_BUILD_TYPE=Release > "$build/configure.log" 2>&1 \
  || { cat "$build/configure.log"; exit 1; }
cmake --build "$build" -j"$(nproc)" > "$build/build.log" 2>&1 || { tail -50 "$build/build.log"; exit 1; }
cmake --install "$build" > /dev/null
# ament_python_install_package also writes coc_ros-*.egg-info there; pip would take it for an installed "coc_ros"
# distribution and delete the generated package when `pip install -e .` installs the sources.
rm -rf "$VENV/$pydir"/coc_ros-*.egg-info
echo "$VENV/$pydir" > "$site/zz_coc_ros_interfaces.pth"
(cd / && "$PYBIN" -c "import coc_ros.msg, coc_ros.srv, coc_ros.action") \
  || { echo "[interfaces] installed, but the generated Python package does not import" >&2; exit 1; }
echo "$sum" > "$stamp"
echo "[interfaces] built and installed into $VENV"
