# What the node remembers across boots besides its spool: the boot counter and whether the
# last starts crashed (for safe mode). A small JSON file replaced by rename, so a power cut
# leaves the old or the new version, never half of one.
import json
import os

PATH = "state.json"


def load(path=PATH):
    try:
        with open(path) as f:
            s = json.load(f)
        return {"boot": int(s["boot"]), "crashes": int(s["crashes"]), "pending": bool(s["pending"])}
    except (OSError, ValueError, KeyError, TypeError):
        return {"boot": -1, "crashes": 0, "pending": False}


def save(s, path=PATH):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(s, f)
    os.rename(tmp, path)
