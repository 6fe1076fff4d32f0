"""The shop package."""
import importlib.resources

VERSION = "1.2.3"


def describe():
    # A data file in a plain (non-package) subdirectory of the package.
    text = (importlib.resources.files(__name__) / "data" / "greeting.txt").read_text(encoding="utf-8")
    return text.strip()
