#!/usr/bin/env bash
# Rebuild what mybinder.org builds from binder/ alone, in a fresh virtual environment,
# then run the notebooks there under nbval.
#
# repo2docker reads binder/apt.txt (Debian packages), binder/runtime.txt (the Python
# version) and binder/requirements.txt, which it installs with pip from the root of the
# repository; when binder/ exists it ignores the files at the root (pyproject.toml).
# This script does the same steps on this machine: installing apt packages needs root
# unless they are already there. Nothing outside a temporary folder is left behind,
# except the apt packages and the `*.egg-info` that `pip install -e .` writes (ignored by git).
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1 DEBIAN_FRONTEND=noninteractive
unset PYTHONPATH  # the notebooks must find prorch_nb through the install, not the checkout

# 1. apt.txt, read as repo2docker reads it: "#" starts a comment, one package a line.
packages=$(sed -e 's/#.*//' -e 's/[[:space:]]//g' binder/apt.txt | grep -v '^$' || true)
missing=$(for package in $packages; do dpkg -s "$package" >/dev/null 2>&1 || echo "$package"; done)
if [ -n "$missing" ]; then
    echo "== apt-get install" $missing
    apt-get update -qq && apt-get install --yes --no-install-recommends $missing
fi
command -v dot >/dev/null || { echo "binder/check.sh: Graphviz's dot is missing after installing apt.txt" >&2; exit 1; }

# 2. A fresh virtual environment with the Python of runtime.txt (or python3 if absent).
python=python3
if [ -f binder/runtime.txt ]; then
    wanted="python$(sed -n 's/^python-\([0-9.]*\).*/\1/p' binder/runtime.txt)"
    if command -v "$wanted" >/dev/null; then python=$wanted; else echo "== no $wanted here; using $(python3 --version)"; fi
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
"$python" -m venv "$scratch/venv"
venv="$scratch/venv/bin"

# 3. requirements.txt, from the repository's root as repo2docker runs it; then what binder's
#    base environment adds (JupyterLab, the kernel) and the test runner of this check.
echo "== pip install -r binder/requirements.txt"
"$venv/pip" install --quiet -r binder/requirements.txt
"$venv/pip" install --quiet jupyterlab ipykernel pytest nbval

# 4. What a binder session needs: the package, dot, and the widgets' JupyterLab extension.
"$venv/python" -c "import prorch_nb, graphviz, ipywidgets, pandas; print('== prorch_nb', prorch_nb.__version__, 'from', prorch_nb.__file__)"
"$venv/jupyter" labextension list 2>&1 | grep -q "@jupyter-widgets/jupyterlab-manager" \
    || { echo "binder/check.sh: the ipywidgets JupyterLab extension is not installed" >&2; exit 1; }

# 5. The notebooks, compared with their stored outputs, in a kernel of this environment.
echo "== nbval"
"$venv/python" -m pytest notebooks/ -o addopts="" -p no:cacheprovider \
    --nbval --nbval-current-env --nbval-sanitize-with notebooks/nbval_sanitize.cfg
