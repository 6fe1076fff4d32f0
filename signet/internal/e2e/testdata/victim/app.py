"""The app under attack: every tamper case tries to run attacker code (the canary) here."""
import json

import mod
from pkg import sub

print("app ok", mod.VALUE, sub.NAME, json.dumps({"a": 1}))
