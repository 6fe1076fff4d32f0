import importlib.resources

# A data file beside the module, read through importlib.resources.
RATE = float(importlib.resources.files(__package__).joinpath("rates.txt").read_text(encoding="ascii").split("=")[1])


def apply(amount):
    return amount * (1 + RATE)
