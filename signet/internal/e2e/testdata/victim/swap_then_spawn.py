"""Rewrites a sealed module after start-up, then has a spawned worker import it."""
import concurrent.futures
import multiprocessing
import os
import sys

CANARY = "import os\nopen(os.path.join(%r, 'CANARY'), 'a').write('late.py ran in a worker\\n')\nVALUE = 1\n" % "@CANARY_DIR@"


def use_late(x):
    import late
    return late.VALUE + x


def main():
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "late.py"), "w") as f:
        f.write(CANARY)
    ctx = multiprocessing.get_context(sys.argv[1])
    try:
        with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=ctx) as ex:
            print("result", ex.submit(use_late, 1).result(timeout=60))
    except Exception as e:  # BrokenProcessPool (3.13: BrokenPipeError) when the worker is refused
        print("worker refused")
        print("worker error:", type(e).__name__, file=sys.stderr)
        sys.exit(3)


if __name__ == "__main__":
    main()
