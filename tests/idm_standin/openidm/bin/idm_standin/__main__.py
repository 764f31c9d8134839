"""Entry point of the IDM stand-in (test double): ``python3 -m idm_standin`` (see startup.sh)."""

import sys

from idm_standin.server import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
