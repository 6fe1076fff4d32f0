"""Greets the names given as arguments, in the style set by config/style.txt."""

import os
import sys

import greet


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "config", "style.txt"), encoding="utf-8") as f:
        loud = f.read().strip() == "loud"
    for name in argv or ["world"]:
        print(greet.greeting(name, loud=loud))


main(sys.argv[1:])
