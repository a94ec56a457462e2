#!/bin/sh
# Word count reducer in plain shell: its input is sorted by key, so `uniq -c` sees each word's
# lines together; awk turns "  3 word" into "word<TAB>3".
cut -f1 | uniq -c | awk '{ print $2 "\t" $1 }'
