#!/usr/bin/env bash
# Every figure the README's "Measured" section quotes, in one run on this machine, written to
# one markdown report (default target/bench-report.md): the site build, search (in process and
# over HTTP with wrk), the portal, the agents' queue, load with faults, and Pagefind (npm) and
# mdBook (crates.io) on the same generated content, side by side, so ratios come from one run.
#
#   scripts/bench.sh              # full size: 10,000 generated pages, 10,000 tickets
#   scripts/bench.sh --quick      # small sizes, to try the script (figures not comparable)
#   BENCH_REPORT=/tmp/r.md scripts/bench.sh
#
# Needs (installed when missing): wrk (apt), pagefind (npm, into .npm/), mdbook (cargo install,
# into .tools/). Takes 15-30 minutes on 2 cores, most of it release builds on a first run.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
quick=false
[ "${1:-}" = "--quick" ] && quick=true
if $quick; then pages=1000 tickets=1000 clients=16 wrk_secs=5; else pages=10000 tickets=10000 clients=64 wrk_secs=20; fi
report="${BENCH_REPORT:-$root/target/bench-report.md}"
work="$(mktemp -d "${TMPDIR:-/tmp}/bench.XXXXXX")"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$(dirname "$report")"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
step() { printf '\n== %s\n' "$*" >&2; }

step "tools: wrk, pagefind, mdbook"
command -v wrk >/dev/null || { as_root apt-get update -q; DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q --no-install-recommends wrk; }
pagefind_version=1.6.0
[ -x .npm/node_modules/.bin/pagefind ] || npm install --no-audit --no-fund --silent --prefix .npm "pagefind@$pagefind_version"
[ -x .tools/bin/mdbook ] || cargo install --quiet --locked --root .tools mdbook
mdbook_version="$(.tools/bin/mdbook --version)"

rows=()
# row WHAT FIGURE COMMAND
row() { rows+=("| $1 | $2 | \`$3\` |"); }
# The lines a command printed that contain PATTERN, each as a row.
rows_from() {
  local what="$1" file="$2" pattern="$3" cmd="$4" prefix="${5:-}"
  while IFS= read -r line; do
    line="$(echo "$line" | tr -s ' ' | sed 's/^ //')"
    row "$what" "$prefix${line//|/\\|}" "$cmd"
  done < <(grep -E "$pattern" "$file" | grep -vE '^ *(Compiling|Finished|Running|Blocking|warning)' || true)
}
# Runs a command with its output in FILE; on failure shows the end of it and stops.
logged() {
  local file="$1"
  shift
  "$@" >"$file" 2>&1 || { tail -40 "$file" >&2; echo "failed: $*" >&2; exit 1; }
}
# Wall seconds and peak RSS (MB) of a command: "secs mb".
timed() {
  /usr/bin/time -f '%e %M' -o "$work/time" "$@" >"$work/timed.out" 2>&1 || { cat "$work/timed.out" >&2; return 1; }
  awk '{ printf "%s %.0f\n", $1, $2 / 1024 }' "$work/time"
}

step "release builds"
cargo build --release --quiet -p helpdesk
cargo bench --no-run --quiet -p helpdesk -p site-builder -p search-index 2>/dev/null

step "site build ($pages generated pages)"
cmd="cargo bench -p site-builder --bench build -- $pages"
logged "$work/build.txt" $cmd
header="$(grep -m1 'articles' "$work/build.txt" | tr -s ' ' | sed 's/^ //; s/fresh build/fresh-build/; s/peak RSS/peak-RSS/')"
rows_from "site build" "$work/build.txt" '^ *[0-9]+ +[0-9]+ ' "$cmd" "($header): "

step "search in process (and the generated site for the rest)"
cmd="cargo bench -p search-index --bench search -- $pages --keep $work/sb"
logged "$work/search.txt" cargo bench -p search-index --bench search -- "$pages" --keep "$work/sb"
rows_from "search" "$work/search.txt" 'p50|p99|size|build|open|answer' "cargo bench -p search-index --bench search -- $pages"

step "side by side on the same content: our build, Pagefind on our HTML, mdBook on the same markdown"
read -r ours_s ours_mb < <(timed target/release/helpdesk --content "$work/sb/content" build --out "$work/ours")
row "side by side: \`helpdesk build\` (HTML + search index + related articles)" "${ours_s} s, peak ${ours_mb} MB" "helpdesk --content <generated> build"
cp -r "$work/sb/dist" "$work/pf-site" && rm -rf "$work/pf-site/search"
read -r pf_s pf_mb < <(timed .npm/node_modules/.bin/pagefind --site "$work/pf-site")
row "side by side: Pagefind $pagefind_version indexing the same HTML" "${pf_s} s, peak ${pf_mb} MB ($(awk -v a="$pf_s" -v b="$ours_s" 'BEGIN { printf "%.1f", a / b }')× our whole build)" "pagefind --site <our HTML without our index>"
# mdBook: the same articles as chapters (front matter dropped), one part per category.
book="$work/book"
mkdir -p "$book/src"
printf '[book]\ntitle = "FAQ"\nlanguage = "nl"\n\n[output.html.search]\nenable = true\n' >"$book/book.toml"
{
  echo "# Summary"
  echo
  for dir in "$work/sb/content/faq/nl"/*/; do
    cat="$(basename "$dir")"
    mkdir -p "$book/src/$cat"
    echo "# $cat"
    for md in "$dir"*.md; do
      name="$(basename "$md")"
      [ "$name" = "_index.md" ] && continue
      awk 'BEGIN { fm = 0 } NR == 1 && /^\+\+\+$/ { fm = 1; next } fm && /^\+\+\+$/ { fm = 0; next } !fm' "$md" >"$book/src/$cat/$name"
      title="$(grep -m1 '^title' "$md" | sed -E 's/^title *= *"(.*)"$/\1/; s/[][]//g')"
      echo "- [${title:-$name}]($cat/$name)"
    done
  done
} >"$book/src/SUMMARY.md"
chapters=$(grep -c '^- ' "$book/src/SUMMARY.md")
read -r mb_s mb_mb < <(timed .tools/bin/mdbook build "$book")
row "side by side: $mdbook_version building the same $chapters Dutch articles (HTML + its search index)" "${mb_s} s, peak ${mb_mb} MB ($(awk -v a="$mb_s" -v b="$ours_s" 'BEGIN { printf "%.1f", a / b }')× our whole build)" "mdbook build <the same markdown>"
ours_idx=$(du -sk "$work/ours/search" | cut -f1)
pf_idx=$(du -sk "$work/pf-site/pagefind" | cut -f1)
# mdBook 0.5 names it searchindex-<hash>.js, 0.4 searchindex.js and .json.
mb_idx=$(find "$book/book" -maxdepth 1 -name 'searchindex*' -exec du -ck {} + | tail -1 | cut -f1)
row "side by side: search index on disk" "ours ${ours_idx} KB (read by the service), Pagefind ${pf_idx} KB (fetched in chunks by browsers), mdBook ${mb_idx} KB (one file every browser downloads whole)" "du -sk"

step "search over HTTP (wrk)"
target/release/helpdesk --content "$work/sb/content" serve --data-dir "$work/data" --addr 127.0.0.1:3999 >"$work/serve.log" 2>&1 &
for _ in $(seq 1 600); do curl -fs http://127.0.0.1:3999/healthz >/dev/null 2>&1 && curl -fs http://127.0.0.1:3999/ >/dev/null 2>&1 && break; sleep 0.1; done
for set in queries distinct; do
  logged "$work/wrk-$set.txt" wrk -t2 -c64 -d"${wrk_secs}s" --latency -s search-index/benches/wrk-queries.lua http://127.0.0.1:3999 -- "$work/sb/$set.txt"
  rps=$(awk '/Requests\/sec/ { print $2 }' "$work/wrk-$set.txt")
  p99=$(awk '/ 99%/ { print $2 }' "$work/wrk-$set.txt")
  what=$([ "$set" = queries ] && echo "2,000 queries (answers cached)" || echo "200,000 distinct queries (every answer computed)")
  row "/api/search over local HTTP, wrk -c64, $what" "$rps req/s, p99 ${p99:-?}" "wrk -t2 -c64 -d${wrk_secs}s --latency -s search-index/benches/wrk-queries.lua ... $set.txt"
done
kill %1 2>/dev/null || true
wait 2>/dev/null || true

step "portal"
cmd="cargo bench -p helpdesk --bench portal -- $tickets $clients"
logged "$work/portal.txt" $cmd
rows_from "portal" "$work/portal.txt" 'tickets/s|start-up' "$cmd"

step "agents' queue"
cmd="cargo bench -p helpdesk --bench queue -- $tickets 200 5 sqlite"
logged "$work/queue.txt" $cmd
rows_from "agents' queue" "$work/queue.txt" '^(/agent|pages|page 50|\?|all of)' "$cmd" "(page, rows; one client: p50 p99 max ms, req/s; 4 clients: the same): "

step "load with faults"
cmd="cargo bench -p helpdesk --bench faults -- $tickets $clients"
logged "$work/faults.txt" $cmd
rows_from "load with faults" "$work/faults.txt" '^- ' "$cmd"

cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
mem="$(awk '/MemTotal/ { printf "%.1f GB", $2 / 1048576 }' /proc/meminfo)"
{
  echo "# Benchmark report"
  echo
  echo "Machine: $(nproc) cores ($cpu), $mem RAM, $(uname -sr); $(rustc --version); $(date -u '+%Y-%m-%d %H:%M UTC'); commit $(git rev-parse --short HEAD)$($quick && echo '; --quick sizes')."
  echo "Client and server share the cores. Every figure below comes from this one run."
  echo
  echo "| what | figure | command |"
  echo "|---|---|---|"
  printf '%s\n' "${rows[@]}"
} >"$report"
step "report: $report"
cat "$report"
