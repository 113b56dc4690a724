"""Make this checkout importable as ansible_collections.beamsec.cluster.

The repository root is the collection root, so a symlink under
.cache/collections/ansible_collections/beamsec/cluster points back at it;
ANSIBLE_COLLECTIONS_PATH is set the same way for ansible-playbook runs.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COLLECTIONS = ROOT / '.cache' / 'collections'
LINK = COLLECTIONS / 'ansible_collections' / 'beamsec' / 'cluster'

if not LINK.is_symlink():
    LINK.parent.mkdir(parents=True, exist_ok=True)
    try:
        LINK.symlink_to(ROOT, target_is_directory=True)
    except FileExistsError:  # another xdist worker made it first
        pass
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))
os.environ['ANSIBLE_COLLECTIONS_PATH'] = os.pathsep.join(
    [str(COLLECTIONS)] + [p for p in os.environ.get('ANSIBLE_COLLECTIONS_PATH', '').split(os.pathsep) if p])
