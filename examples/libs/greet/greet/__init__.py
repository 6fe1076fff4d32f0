"""A tiny library: greets someone, with a word read from its own data file."""

import os

from greet.style import shout


def greeting(name, loud=False):
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "words.txt"), encoding="utf-8") as f:
        word = f.read().strip()
    text = "%s, %s" % (word, name)
    return shout(text) if loud else text
