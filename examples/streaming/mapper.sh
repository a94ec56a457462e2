#!/bin/sh
# Word count mapper in plain shell: each word on a line of its own, lower-cased. A line without a
# tab is a key with an empty value.
tr -cs 'A-Za-z0-9_' '\n' | tr 'A-Z' 'a-z' | grep -v '^$'
