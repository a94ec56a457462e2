#!/usr/bin/env python3
"""Word count reducer: its input is `word<TAB>count` lines sorted by word; it adds up each word's counts."""
import sys

def main():
    current = None
    total = 0
    out = sys.stdout
    for line in sys.stdin:
        word, _, count = line.rstrip("\n").partition("\t")
        if word != current:
            if current is not None:
                out.write(f"{current}\t{total}\n")
            current, total = word, 0
        total += int(count)
    if current is not None:
        out.write(f"{current}\t{total}\n")

if __name__ == "__main__":
    main()
