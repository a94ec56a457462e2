"""The idiomatic 2-worker Dask word count, as a Dask user would write it: dask.bag over the
text in 64 MiB blocks, a regex for words, frequencies(), on the multiprocessing scheduler
with 2 worker processes (one per core here; threads would serialise on the GIL).

Words are runs of Unicode word characters or "'" after lower-casing: Python's \\w is
[\\p{L}\\p{Nd}_] plus a few other number and mark classes that the bench's generated text does
not contain, so the output matches the other word counts on it.

usage: /usr/bin/python3 bench/baselines/dask-wordcount.py INPUT OUTPUT [WORKERS]
"""
import re
import sys

import dask
import dask.bag as db

WORD = re.compile(r"[\w']+")


def words(line):
    return WORD.findall(line.lower())


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: dask-wordcount.py INPUT OUTPUT [WORKERS]")
    source, output = sys.argv[1], sys.argv[2]
    workers = int(sys.argv[3]) if len(sys.argv) == 4 else 2
    lines = db.read_text(source, blocksize="64MiB", encoding="utf-8")
    counts = lines.map(words).flatten().frequencies()
    with dask.config.set(scheduler="processes", num_workers=workers):
        result = counts.compute()
    with open(output, "w", encoding="utf-8") as out:
        for word, count in result:
            out.write(f"{word}\t{count}\n")


if __name__ == "__main__":
    main()
