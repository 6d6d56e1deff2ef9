"""checks.py: the named checks an end-to-end test prints, one line each
("ok   NAME" or "FAIL NAME: detail"), and their tally."""

results = []


def check(name, ok, detail=""):
    results.append((name, ok))
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else ": " + detail))
    return ok


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)
