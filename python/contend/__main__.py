"""``python3 -m contend lab [flags]``: see contend.lab.cli."""

import sys

from contend.lab import cli


def _main() -> int:
    argv = sys.argv[1:]
    if not argv or argv[0] != "lab":
        print("usage: python3 -m contend lab [--help | flags]", file=sys.stderr)
        return 2
    return cli.main(argv[1:])


if __name__ == "__main__":
    sys.exit(_main())
