"""Stand-in for ansible-test's get-pip bootstrap script, whose download host is
not reachable here: bootstrap pip from the interpreter's bundled wheel
(ensurepip), then let that pip install what ansible-test asked for from PyPI.
scripts/sanity.sh copies it to where ansible-test looks for its cached copy."""

import subprocess
import sys

# in a child: ensurepip.bootstrap() in-process sets PIP_CONFIG_FILE=/dev/null,
# which would hide the machine's pip configuration from the install below
subprocess.check_call([sys.executable, '-m', 'ensurepip', '--default-pip'])
args = [arg for arg in sys.argv[1:] if arg not in ('--no-setuptools', '--no-wheel')]
sys.exit(subprocess.call([sys.executable, '-m', 'pip', 'install'] + args))
