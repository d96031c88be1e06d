# Sourced by the scripts that start `gpt serve` (check-server, check-server-robustness,
# serve-throughput): what they share.

# listening_url OUT ERR WHO: waits up to a minute for the server whose standard output
# goes to OUT to print "listening on URL", then prints URL; if it never does, prints
# its standard error (ERR) and "WHO: the server did not start", and fails.
listening_url() {
  local out=$1 err=$2 who=$3
  for _ in $(seq 600); do
    if grep -q "^listening on " "$out"; then sed -n 's/^listening on //p' "$out"; return 0; fi
    sleep 0.1
  done
  cat "$err" >&2
  echo "$who: the server did not start" >&2
  return 1
}
