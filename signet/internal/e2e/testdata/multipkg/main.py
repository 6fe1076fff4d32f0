"""A small multi-package app: subpackages, relative imports, data files, args, stdin, exit code."""
import sys

from shop import VERSION, checkout, describe
from shop.pricing import tax


def main(argv):
    print("version:", VERSION)
    print("args:", argv)
    data = sys.stdin.read()
    print("stdin:", repr(data))
    print("stdin lines:", len(data.splitlines()))
    print("total:", checkout.total([3, 4.5, 10]))
    print("rate:", tax.RATE)
    print("greeting:", describe())
    print("name:", __name__)
    print("this goes to stderr", file=sys.stderr)
    code = 0
    for arg in argv:
        if arg.startswith("--exit="):
            code = int(arg[len("--exit="):])
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
