"""Runs worker processes with each start method named on the command line.

"default" uses ProcessPoolExecutor without a context, i.e. the interpreter's default start
method (forkserver on Linux from 3.14), and prints that method's name.
"""
import concurrent.futures
import multiprocessing
import sys

import work


def cube(x):
    return x * x * x


def main():
    for method in sys.argv[1:]:
        if method == "default":
            ctx = None
            method = "default(%s)" % multiprocessing.get_start_method()
        else:
            ctx = multiprocessing.get_context(method)
        with concurrent.futures.ProcessPoolExecutor(max_workers=2, mp_context=ctx) as ex:
            squares = list(ex.map(work.square, range(8)))
            cubes = list(ex.map(cube, range(5)))
        print(method, squares, cubes)


if __name__ == "__main__":
    main()
