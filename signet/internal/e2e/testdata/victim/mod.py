import os

VALUE = 42


def _canary():
    with open(os.path.join("@CANARY_DIR@", "CANARY"), "a") as f:
        f.write("mod.py ran tampered\n")


_canary()  if 0 else None
