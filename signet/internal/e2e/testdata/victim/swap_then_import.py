"""Rewrites a sealed module after the loader's start-up check, then imports it."""
import os

CANARY = "import os\nopen(os.path.join(%r, 'CANARY'), 'a').write('late.py ran\\n')\nVALUE = 'attacker'\n" % "@CANARY_DIR@"
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "late.py"), "w") as f:
    f.write(CANARY)
import late  # noqa: E402

print("imported late", late.VALUE)
