#!/usr/bin/env python3
"""Word count mapper for `torpedo run --mapper 'python3 mapper.py'`: one `word<TAB>1` line per word.

Words are found as the built-in `wordcount` finds them: runs of letters, digits, `_` and `'`,
then lowercased. (Python's \\w also takes a few numeric characters that are not decimal digits,
such as '²'; on such input the two may differ.)
"""
import re
import sys

WORD = re.compile(r"[\w']+")


def main():
    write = sys.stdout.write
    lines = 0
    for line in sys.stdin:
        lines += 1
        words = WORD.findall(line)
        if words:
            # One write per line, not per word: four times faster here.
            write(("\t1\n".join(words) + "\t1\n").lower())
    # Hadoop Streaming's counter protocol, on stderr.
    sys.stderr.write(f"reporter:counter:wordcount,lines,{lines}\n")


if __name__ == "__main__":
    main()
