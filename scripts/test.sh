#!/usr/bin/env bash
# Runs the whole test suite and ends with one line "N passed, N failed[, N skipped]" counted from the
# TRX results, so a run that executed no test is visible. Exit status is dotnet test's (non-zero on failure).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/setup.sh || exit 1

results="$root/artifacts/test-results"
rm -rf "$results"
mkdir -p "$results"
# One dotnet test per test project, each with its own TRX file: with one run over the solution, assemblies that
# finish in the same instant wrote TRX files of the same default name and one overwrote the other, so its tests
# went uncounted. Two projects run at a time (the machine's cores).
# The three assemblies that take minutes start first, longest first (Rl ~9 min, ClipTraining ~5, Grains ~6 on this
# machine), so that Rl runs alone in one lane while the other two share the second; the rest take seconds.
projects=$(find tests -mindepth 2 -maxdepth 2 -name '*.Tests.csproj' | sort \
  | awk '/\/Rl\.Tests\.csproj$/ {print "0 " $0; next} /\/ClipTraining\.Tests\.csproj$/ {print "1 " $0; next}
         /\/Grains\.Tests\.csproj$/ {print "2 " $0; next} {print "3 " $0}' | sort | cut -d' ' -f2)
printf '%s\n' $projects | xargs -P 2 -I{} sh -c 'name=$(basename "{}" .csproj); dotnet test --project "{}" -c Release --no-build --report-xunit-trx --report-xunit-trx-filename "$name.trx" --results-directory "$0" "$@" > "$0/$name.log" 2>&1; code=$?; cat "$0/$name.log"; exit $code' "$results" "$@"
status=$?
expected=$(printf '%s\n' $projects | wc -l)
found=$(find "$results" -maxdepth 1 -name '*.trx' | wc -l)
if ((found != expected)); then
  echo "test: $expected test projects ran but $found TRX files were written; the summary would not count every test" >&2
  status=1
fi

passed=0 failed=0 skipped=0
shopt -s nullglob
for trx in "$results"/*.trx; do
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  value() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$counters"; }
  total=$(value total); executed=$(value executed); p=$(value passed); f=$(value failed)
  e=$(value error); t=$(value timeout); a=$(value aborted)
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0} + ${e:-0} + ${t:-0} + ${a:-0}))
  skipped=$((skipped + ${total:-0} - ${executed:-0}))
done
# The same count from the test platform's own summary of each project ("total: N"): the line below must count
# every test it ran, so a TRX file that lost tests (as one overwritten by another did) fails the run.
platform=0
for log in "$results"/*.log; do
  t=$(sed -n 's/^ *total: \([0-9]*\)$/\1/p' "$log" | tail -1)
  platform=$((platform + ${t:-0}))
done
if ((passed + failed + skipped != platform)); then
  echo "test: the TRX files count $((passed + failed + skipped)) tests but the test platform reported $platform" >&2
  status=1
fi
if ((passed + failed == 0 && status == 0)); then
  echo "no test was executed" >&2
  status=1
fi
# The failures again, named, just above the summary: a failing test host dumps its whole standard output after the
# failure, so in a log's tail the failed test's name and message would be out of sight.
for trx in "$results"/*.trx; do
  perl -0777 -ne 'while (/<UnitTestResult [^>]*?testName="([^"]*)"[^>]*?outcome="(?:Failed|Error|Timeout|Aborted)"[^>]*>(.*?)<\/UnitTestResult>/sg) {
      my ($test, $body) = ($1, $2); my ($message) = $body =~ /<ErrorInfo>\s*<Message>(.*?)<\/Message>/s;
      $message //= "(no message)";
      for ($test, $message) { s/&lt;/</g; s/&gt;/>/g; s/&quot;/"/g; s/&apos;/\x27/g; s/&amp;/&/g; }
      my @lines = grep { /\S/ } split /\n/, $message;
      print "FAILED: $test\n", map { "    " . substr($_, 0, 300) . "\n" } @lines[0 .. ($#lines < 15 ? $#lines : 15)];
    }' "$trx"
done
if ((skipped > 0)); then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
exit $status
