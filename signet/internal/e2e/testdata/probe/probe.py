"""Reports the interpreter state the app runs in, as JSON on stdout."""
import json
import os
import sys

try:
    import signet_runtime
    sealed = bool(signet_runtime.sealed)
except ImportError:
    sealed = False

with open("/proc/self/comm", encoding="utf-8") as f:
    comm = f.read().strip()

print(json.dumps({
    "sealed": sealed,
    "flags": {name: int(getattr(sys.flags, name)) for name in (
        "isolated", "ignore_environment", "no_site", "no_user_site", "safe_path",
        "dont_write_bytecode", "inspect", "interactive")},
    "environ": sorted(os.environ),
    "path": sys.path,
    "prefix": sys.prefix,
    "base_prefix": sys.base_prefix,
    "exec_prefix": sys.exec_prefix,
    "comm": comm,
    "argv": sys.argv[1:],
    "modules_from_outside": sorted(
        name for name, m in sys.modules.items()
        if getattr(m, "__file__", None) and not m.__file__.startswith(sys.base_prefix)),
}))
