"""Runs worker processes with each start method named on the command line."""
import concurrent.futures
import multiprocessing
import sys

import work


def cube(x):
    return x * x * x


def main():
    for method in sys.argv[1:]:
        ctx = multiprocessing.get_context(method)
        with concurrent.futures.ProcessPoolExecutor(max_workers=2, mp_context=ctx) as ex:
            squares = list(ex.map(work.square, range(8)))
            cubes = list(ex.map(cube, range(5)))
        print(method, squares, cubes)


if __name__ == "__main__":
    main()
