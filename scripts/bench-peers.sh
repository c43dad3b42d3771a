#!/usr/bin/env bash
# Side-by-side throughput of rdsflows and its peers on one generated capture, same run, warm
# page cache, whole process (issue 6). Prints one Markdown table: tool, seconds (median of
# --runs), packets/s, ratio to rdsflows (one thread).
#
# The tools take turns: a warm-up round, then --runs rounds in each of which every tool runs
# once. This machine is shared, and its neighbours come and go within a minute: timing one
# tool's runs back to back (as hyperfine does) handed a whole busy minute to whichever tool's
# turn it was, and moved the two-thread row alone from 1.4x to 2.0x one thread between runs.
#
# Usage: scripts/bench-peers.sh [--packets N] [--flows N] [--seed S] [--runs N] [--dir DIR]
#
# Installs the peers from Debian when missing (needs root): tshark, ndpi tools, argus, tcpdump.
# softflowd is installed too but not timed: in -r mode (1.1.0) it does not exit at
# the end of the file. The capture is generated (never committed) into --dir (default /tmp).
# No peer output is kept.
set -euo pipefail
export LC_ALL=C # bash writes $EPOCHREALTIME with the locale's decimal mark

packets=2000000
flows=26000
seed=1
runs=3
dir=${TMPDIR:-/tmp}/rdsflows-bench
while [ $# -gt 0 ]; do
    case "$1" in
        --packets) packets=$2; shift 2 ;;
        --flows) flows=$2; shift 2 ;;
        --seed) seed=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        --dir) dir=$2; shift 2 ;;
        *) echo "usage: $0 [--packets N] [--flows N] [--seed S] [--runs N] [--dir DIR]" >&2; exit 2 ;;
    esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}

missing=()
for tool in tshark ndpiReader argus tcpdump; do
    command -v "$tool" >/dev/null || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "missing: ${missing[*]}; run as root or: sudo apt-get install tshark libndpi-bin argus-server argus-client softflowd tcpdump" >&2
        exit 2
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        tshark libndpi-bin argus-server argus-client softflowd tcpdump >/dev/null
fi

(cd "$root" && cargo build --release -q && cargo build --release -q --example walk)
rdsflows=$target/release/rdsflows
walk=$target/release/examples/walk

mkdir -p "$dir"
capture=$dir/bench-${packets}p-${flows}f-s${seed}.pcap
if [ ! -s "$capture" ]; then
    "$rdsflows" generate bench --packets "$packets" --flows "$flows" --seed "$seed" -o "$capture"
fi
cat "$capture" >/dev/null # warm the page cache
frames=$("$walk" "$capture" | cut -d' ' -f1)

# name|command (whole process; output thrown away). The peers write their records to a scratch
# file, never to /dev/null: argus, run as root, replaces its output path with a regular file,
# and a /dev/null replaced that way breaks every later program on the machine.
tools=(
    "bare record walk (examples/walk.rs)|$walk $capture"
    "rdsflows analyze -q|$rdsflows analyze -q $capture"
    "tcpdump -r F -w OUT|tcpdump -r $capture -w $dir/peer-out.pcap"
    "argus -r F -w OUT|argus -r $capture -w $dir/peer-out.argus"
    "ndpiReader -q -i F|ndpiReader -q -i $capture"
    "tshark -q -z conv,tcp -z conv,udp|tshark -q -z conv,tcp -z conv,udp -r $capture"
)
# Two threads run next to one thread, so that each round's pair meets the same neighbours; the
# pair swaps places every other round, so that neither always follows the other.
swap=0
if "$rdsflows" analyze --help | grep -q -- '--threads'; then
    tools=("${tools[0]}"
        "rdsflows analyze -q --threads 1|$rdsflows analyze -q --threads 1 $capture"
        "rdsflows analyze -q --threads 2|$rdsflows analyze -q --threads 2 $capture"
        "${tools[@]:2}")
    swap=1
fi

# Round 0 is the warm-up and is not counted. Wall time of the whole process, from bash's
# microsecond clock around it.
declare -A walls
for round in $(seq 0 "$runs"); do
    order=("${tools[@]}")
    if [ "$swap" -eq 1 ] && [ $((round % 2)) -eq 1 ]; then
        order[1]=${tools[2]}
        order[2]=${tools[1]}
    fi
    for entry in "${order[@]}"; do
        name=${entry%%|*}
        cmd=${entry#*|}
        start=$EPOCHREALTIME
        $cmd >/dev/null 2>&1 || true
        end=$EPOCHREALTIME
        if [ "$round" -gt 0 ]; then
            walls[$name]+="$start:$end "
        fi
    done
done
declare -A seconds
for entry in "${tools[@]}"; do
    name=${entry%%|*}
    seconds[$name]=$(python3 -c 'import statistics, sys
print(statistics.median(float(b) - float(a) for a, b in (w.split(":") for w in sys.argv[1:])))' ${walls[$name]})
done

reference=${seconds["rdsflows analyze -q --threads 1"]:-${seconds["rdsflows analyze -q"]}}
echo
echo "Capture: $capture ($frames frames); median of $runs rounds, the tools taking turns, after a warm-up round; $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo
echo "| tool | seconds | packets/s | time ÷ rdsflows (1 thread) |"
echo "|---|---:|---:|---:|"
for entry in "${tools[@]}"; do
    name=${entry%%|*}
    s=${seconds[$name]}
    python3 -c 'import sys
name, s, frames, ref = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
print(f"| {name} | {s:.3f} | {frames / s / 1e6:.2f} M | {s / ref:.1f}× |")' "$name" "$s" "$frames" "$reference"
done
# The two-thread gain: the median of each round's own ratio (one thread's time over two
# threads' time, run one after the other), and their range.
two=${walls["rdsflows analyze -q --threads 2"]:-}
if [ -n "$two" ]; then
    echo
    python3 -c 'import statistics, sys
one, two = (a.split() for a in sys.argv[1:3])
span = lambda w: float(w.split(":")[1]) - float(w.split(":")[0])
ratios = [span(a) / span(b) for a, b in zip(one, two)]
print(f"Two threads: {statistics.median(ratios):.2f}× one thread (median of the {len(ratios)} rounds\x27 ratios; {min(ratios):.2f}–{max(ratios):.2f}×).")' "${walls["rdsflows analyze -q --threads 1"]}" "$two"
fi
