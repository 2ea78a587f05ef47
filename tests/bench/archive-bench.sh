#!/bin/sh
# archive-bench.sh - time and peak memory of emofilter-scan on the archive
# cases of issue 3, with inputs built here:
#   (a) a mail with a 2 MiB ZipCrypto zip, password in the body
#   (b) the same with WinZip AES-256
#   (c) an overlapping-entry zip bomb (250 entries sharing one 100 MiB
#       deflate stream: 25 GiB declared), plus Fifield's zbsm.zip from
#       ../shared/corpus when present
#   (d) the 2023 inflated document: an OLE2 head padded with 600 MiB of
#       zeros, zipped to under 1 MiB
#   (0) a mail without attachment, for the process's base footprint
# EMF_CORPUS: where the shared corpus is (default /work/shared/corpus).
# Prints one line per case: wall seconds, peak RSS (KiB), score, symbols.
# Not a test: run it by hand (make check does not).
#
# usage: tests/bench/archive-bench.sh [BUILDDIR]   (default: .)
# Needs zip, zipnote, 7z, python3 and GNU time (/usr/bin/time, Debian
# package "time", installed by contrib/install-deps.sh). Exit 77 if not.
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-.}
scan="$build/src/cli/emofilter-scan"
[ -x "$scan" ] || { echo "archive-bench: $scan not built" >&2; exit 77; }
[ -x /usr/bin/time ] || { echo "archive-bench: /usr/bin/time missing" >&2; exit 77; }
command -v python3 >/dev/null 2>&1 || { echo "archive-bench: python3 missing" >&2; exit 77; }

work=$(mktemp -d "${TMPDIR:-/tmp}/emf-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

BIG_MB=2 INFLATED_MB=600 sh "$top/tests/mkfixtures-zip.sh" "$work/fx" ||
    exit $?

# (c) the overlap bomb: one local header and deflate stream, 250 central
# records pointing at it under different names.
python3 - "$work/fx/overlap.zip" <<'EOF'
import struct, sys, zlib
size = 100 * 1024 * 1024
c = zlib.compressobj(9, zlib.DEFLATED, -15)
kernel = b"".join(c.compress(bytes(1 << 20)) for _ in range(size >> 20)) + c.flush()
crc = 0
for _ in range(size >> 20):
    crc = zlib.crc32(bytes(1 << 20), crc)
name = b"0.doc"
local = struct.pack("<IHHHHHIIIHH", 0x04034b50, 20, 0, 8, 0, 0x21, crc,
                    len(kernel), size, len(name), 0) + name
body = local + kernel
cd = b""
n = 250
for i in range(n):
    nm = b"%d.doc" % i
    cd += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014b50, 20, 20, 0, 8, 0,
                      0x21, crc, len(kernel), size, len(nm), 0, 0, 0, 0,
                      0, 0) + nm
eocd = struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, n, n, len(cd), len(body), 0)
open(sys.argv[1], "wb").write(body + cd + eocd)
EOF

mail() {	# mail ZIPFILE OUT
	{
		printf 'From: Sender <s@example.co.jp>\r\nTo: r@example.com\r\n'
		printf 'Subject: =?UTF-8?B?6KuL5rGC5pu4?=\r\nMIME-Version: 1.0\r\n'
		printf 'Content-Type: multipart/mixed; boundary="BB"\r\n\r\n'
		printf -- '--BB\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n'
		printf '\343\203\221\343\202\271\343\203\257\343\203\274\343\203\211: L51ylaH\r\n'
		if [ -n "$1" ]; then
			printf -- '--BB\r\nContent-Type: application/zip; name="a.zip"\r\n'
			printf 'Content-Transfer-Encoding: base64\r\n\r\n'
			base64 "$1" | sed "s/$/\r/"
		fi
		printf -- '--BB--\r\n'
	} > "$2"
}

run() {	# run LABEL MAILFILE
	out="$work/out.txt"
	/usr/bin/time -f '%e %M' -o "$work/time.txt" "$scan" --json "$2" \
	    > "$out" || true
	python3 - "$1" "$work/time.txt" "$out" "$(wc -c < "$2")" <<'EOF'
import json, sys
label, tfile, ofile, size = sys.argv[1:5]
secs, rss = open(tfile).read().split()[-2:]
r = json.loads(open(ofile).read())
syms = " ".join(s["name"] for s in r["symbols"])
print("%-34s mail %9s B  %6.2f s  %8s KiB peak RSS  score %5.1f  %s  limits=%s"
      % (label, size, float(secs), rss, r["score"], syms,
         ",".join(r["limits_hit"]) or "-"))
EOF
}

mail "" "$work/m0.eml"
mail "$work/fx/big-zipcrypto.zip" "$work/ma.eml"
mail "$work/fx/big-aes256.zip" "$work/mb.eml"
mail "$work/fx/overlap.zip" "$work/mc.eml"
mail "$work/fx/inflated.zip" "$work/md.eml"

echo "emofilter archive benchmark ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPU)"
ls -l "$work/fx/big-zipcrypto.zip" "$work/fx/big-aes256.zip" \
    "$work/fx/overlap.zip" "$work/fx/inflated.zip" |
    awk '{ printf "  input %-14s %10d bytes\n", $NF, $5 }' |
    sed "s|$work/fx/||"
run "(0) no attachment" "$work/m0.eml"
run "(a) 2 MiB ZipCrypto, pw in body" "$work/ma.eml"
run "(b) 2 MiB AES-256, pw in body" "$work/mb.eml"
run "(c) overlap bomb 250x100 MiB" "$work/mc.eml"
zbsm="${EMF_CORPUS:-/work/shared/corpus}/recursiveextractor-testdata/TestData/Bombs/zbsm.zip"
if [ -f "$zbsm" ]; then
	mail "$zbsm" "$work/mc2.eml"
	run "(c') Fifield zbsm.zip (corpus)" "$work/mc2.eml"
fi
run "(d) doc + 600 MiB zeros" "$work/md.eml"
