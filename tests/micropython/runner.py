# A tiny test runner for MicroPython (no unittest needed): imports each
# test_*.py module, calls its test_* functions, and prints one line per test
# and the closing "N passed, N failed" line CI reads.
import os
import sys


def modules(argv):
    if len(argv) > 1:
        return [a[:-3] if a.endswith(".py") else a for a in argv[1:]]
    return sorted(f[:-3] for f in os.listdir(".") if f.startswith("test_") and f.endswith(".py"))


def main():
    passed = failed = 0
    for name in modules(sys.argv):
        mod = __import__(name)
        for attr in sorted(dir(mod)):
            if not attr.startswith("test_"):
                continue
            fn = getattr(mod, attr)
            try:
                fn()
            except Exception as e:
                failed += 1
                print("FAIL", name + "." + attr)
                sys.print_exception(e)
            else:
                passed += 1
                print("ok  ", name + "." + attr)
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


main()
