"""Print the service's direct requirements (core + the ``service`` extra), one per line.

Used by the Dockerfile (dependency layer, before the source is copied) and by
.ci/steps/docker.sh (to `pip download` the wheelhouse for an offline build), so
both install exactly the closure of ``.[service]`` pinned by constraints.txt.
Usage: python3 service_requirements.py [pyproject.toml]
"""

import sys
import tomllib

path = sys.argv[1] if len(sys.argv) > 1 else "pyproject.toml"
with open(path, "rb") as fh:
    project = tomllib.load(fh)["project"]
for requirement in project["dependencies"] + project["optional-dependencies"]["service"]:
    print(requirement)
