# Copyright: idm_automation maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Offline stand-in for the get-pip bootstrap script that ansible-test downloads.

ansible-test creates each sanity test's virtual environment without pip, then downloads a
get-pip script from a CI file server (not a package registry) to put pip in it. `make sanity`
places this file where ansible-test caches that script. It does the same job with what every
CPython ships: `ensurepip` installs the bundled pip wheel, then that pip installs the pip version
ansible-test asked for from the configured package index. Arguments are the ones ansible-test
passes to get-pip: pip options and requirement specifiers, plus get-pip's own `--no-setuptools`
and `--no-wheel`, which mean "do not add those packages".
"""

from __future__ import annotations

import subprocess
import sys

GET_PIP_ONLY = ("--no-setuptools", "--no-wheel")


def main() -> int:
    # A child process: ensurepip turns off pip's configuration files in its own environment,
    # and the second step needs them (index, certificates) like any pip run on this machine.
    subprocess.run(
        [sys.executable, "-m", "ensurepip", "--upgrade"], check=True, stdout=subprocess.DEVNULL
    )
    pip = [sys.executable, "-m", "pip"]
    if "--no-setuptools" in sys.argv:
        # ensurepip of Python 3.11 and older brings setuptools along; get-pip would not
        subprocess.call([*pip, "uninstall", "-q", "-y", "setuptools"], stderr=subprocess.DEVNULL)
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
    return subprocess.call([*pip, "install", "--quiet", *args])


if __name__ == "__main__":
    sys.exit(main())
