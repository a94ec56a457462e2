#!/usr/bin/env bash
# What faults cost, on the 1 GB word count with 2 workers (issue: fault tolerance):
#   1. fault-free;  2. a random worker SIGKILLed every second;  3. the whole process group
#   SIGKILLed at ~50% of the fault-free time, then the same command with --resume;
#   4. a straggler (the last map's first attempt stalls 10 s), with and without backup tasks.
# Usage: bash bench/faults.sh [bytes]   (default 1e9; the input is generated once into bench/.data)
set -euo pipefail
cd "$(dirname "$0")/.."
BYTES=${1:-1000000000}
IN=bench/.data/text-v1-${BYTES}b-seed42.txt
[ -f "$IN" ] || node --import tsx bench/gen-text.ts --bytes "$BYTES" --out "$IN" --seed 42 >&2
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
flags=(--input "$IN" --reducers 4 --workers 2 --json)
now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.2f}')"; }
field() { python3 -c "import json,sys; d=json.load(open('$1')); print($2)"; }

s=$(now); node bin/torpedo run wordcount "${flags[@]}" --output "$OUT/ref" > "$OUT/ref.json"; e=$(now)
free=$(secs "$s" "$e")

s=$(now); node bin/torpedo run wordcount "${flags[@]}" --output "$OUT/kill" > "$OUT/kill.json" & job=$!
kills=0
while kill -0 "$job" 2>/dev/null; do
  sleep 1
  victim=$(pgrep -f "torpedo worker --master" | shuf -n1 || true)
  if [ -n "$victim" ] && kill -9 "$victim" 2>/dev/null; then kills=$((kills + 1)); fi
done
wait "$job"; e=$(now)
killed=$(secs "$s" "$e")
same1=$(cmp -s <(cat "$OUT"/ref/part-r-*) <(cat "$OUT"/kill/part-r-*) && echo identical || echo DIFFERENT)

half=$(python3 -c "print($free / 2)")
s=$(now); setsid node bin/torpedo run wordcount "${flags[@]}" --output "$OUT/crash" > /dev/null 2>&1 & job=$!
sleep "$half"; kill -9 -- "-$job" 2>/dev/null || true; wait "$job" 2>/dev/null || true
committed=$(ls "$OUT/crash/_temporary/map" 2>/dev/null | wc -l)
node bin/torpedo run wordcount "${flags[@]}" --output "$OUT/crash" --resume > "$OUT/crash.json"; e=$(now)
crashed=$(secs "$s" "$e")
same2=$(cmp -s <(cat "$OUT"/ref/part-r-*) <(cat "$OUT"/crash/part-r-*) && echo identical || echo DIFFERENT)

# The last split starts at the largest multiple of the split size (64 MiB) below the input size.
last=$(python3 -c "print(($BYTES - 1) // 67108864 * 67108864)")
straggle() {
  local s e
  s=$(now); node bin/torpedo run bench/jobs/straggler-wordcount.ts "${flags[@]}" --output "$OUT/straggle$1" --param last="$last" --param stall=10000 "${@:2}" > "$OUT/straggle$1.json"; e=$(now)
  secs "$s" "$e"
}
backed=$(straggle 1)
unbacked=$(straggle 2 --no-backup-tasks)

echo "| case | wall s | × fault-free | notes | output |"
echo "|---|---:|---:|---|---|"
echo "| fault-free | $free | 1.00× | | |"
echo "| a worker SIGKILLed every 1 s | $killed | $(python3 -c "print(f'{$killed / $free:.2f}')")× | $kills kills, $(field "$OUT/kill.json" "d['phases']['map']['lostAttempts'] + d['phases']['reduce']['lostAttempts']") lost attempts | $same1 |"
echo "| master killed at ${half} s, then --resume | $crashed | $(python3 -c "print(f'{$crashed / $free:.2f}')")× | $committed maps committed before the crash, $(field "$OUT/crash.json" "d['phases']['map']['reusedTasks']") reused, $(field "$OUT/crash.json" "d['phases']['map']['attempts']") map attempts after | $same2 |"
echo "| straggler (last map stalls 10 s), backup tasks | $backed | $(python3 -c "print(f'{$backed / $free:.2f}')")× | $(field "$OUT/straggle1.json" "d['phases']['map']['backupAttempts']") backup, $(field "$OUT/straggle1.json" "d['phases']['map']['killedAttempts']") killed | |"
echo "| straggler, --no-backup-tasks | $unbacked | $(python3 -c "print(f'{$unbacked / $free:.2f}')")× | | |"
