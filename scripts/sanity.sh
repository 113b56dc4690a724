#!/usr/bin/env bash
# ansible-test must run from .../ansible_collections/<namespace>/<name>; copy the
# tracked and new files there (a symlink would resolve back to this checkout).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
dest=.cache/sanity/ansible_collections/beamsec/cluster
rm -rf .cache/sanity
mkdir -p "$dest"
git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$dest"
cd "$dest"
# a throwaway git repo, so ansible-test sees exactly these files
git init -q . && git add -A && git -c user.email=ci@invalid -c user.name=ci commit -qm sanity
# ansible-test bootstraps pip in its venvs with a script from a host we cannot reach
for version in $(grep -ho "pip='[0-9.]*'" "$root"/.cache/venv/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py | tr -dc "0-9.\n"); do
  cache=~/.ansible/test/cache/get_pip_${version//./_}.py
  [ -f "$cache" ] || { mkdir -p "$(dirname "$cache")"; cp "$root/scripts/get_pip_offline.py" "$cache"; }
done
py=$("$root/.cache/venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
read -r -a extra <<< "${SANITY_ARGS:-}"  # e.g. SANITY_ARGS="--test pylint"
"$root/.cache/venv/bin/ansible-test" sanity --local --python "$py" --requirements "${extra[@]}"
