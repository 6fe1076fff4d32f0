import sys

print("smoke test app says hello, " + (" ".join(sys.argv[1:]) or "world"))
