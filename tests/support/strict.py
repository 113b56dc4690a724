"""Equality that Python's 1 == 1.0 == True cannot fool."""


def same(a, b):
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return len(a) == len(b) and all(k in b and same(v, b[k]) for k, v in a.items()) \
            and all(same(k, next(j for j in b if j == k)) for k in a)
    if isinstance(a, float):
        return repr(a) == repr(b)
    return a == b
