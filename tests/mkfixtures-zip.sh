#!/bin/sh
# mkfixtures-zip.sh OUTDIR - build the zip fixtures of check_archive and
# archive-bench.sh at test time (no binary fixture is kept in git).
#
#   zipcrypto.zip   invoice.doc.txt, ZipCrypto (zip -P), password L51ylaH
#   aes128.zip      the same, WinZip AES-128 (7z -mem=AES128)
#   aes256.zip      the same, WinZip AES-256 (7z -mem=AES256)
#   unknown.zip     invoice.exe, ZipCrypto, password not in any mail
#   nested.zip      plain zip holding zipcrypto.zip
#   multi.zip       three members, one password (AES-256)
#   inflated.zip    doc.doc: an OLE2 head, then INFLATED_MB MiB of zeros
#                   (default 40), streamed through stdin as the 2023
#                   padded-document trick does
#   big-zipcrypto.zip / big-aes256.zip   BIG_MB MiB (default 0: not built)
#                   of incompressible data, for the benchmark
#
# Environment: INFLATED_MB, BIG_MB, OLE_HEAD (a file to use as the head of
# doc.doc instead of the synthetic one). Exit 77 when zip, zipnote or 7z
# is missing (automake's "skip").
set -eu

out=${1:?usage: mkfixtures-zip.sh OUTDIR}
inflated_mb=${INFLATED_MB:-40}
big_mb=${BIG_MB:-0}
pw=L51ylaH

for tool in zip zipnote 7z; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "mkfixtures-zip: $tool not found" >&2
		exit 77
	}
done

mkdir -p "$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/emf-zipfx.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
cd "$work"

printf 'Invoice 2020-09 for your order.\r\nThis text stands in for a document.\r\n' \
    > invoice.doc.txt
printf 'MZ not really a program\r\n' > invoice.exe

rm -f "$out"/*.zip
zip -q -X -P "$pw" "$out/zipcrypto.zip" invoice.doc.txt
7z a -bd -tzip -mem=AES128 -p"$pw" "$out/aes128.zip" invoice.doc.txt >/dev/null
7z a -bd -tzip -mem=AES256 -p"$pw" "$out/aes256.zip" invoice.doc.txt >/dev/null
zip -q -X -P 'not-in-the-mail-9' "$out/unknown.zip" invoice.exe
cp "$out/zipcrypto.zip" inner.zip
zip -q -X "$out/nested.zip" inner.zip
printf 'one\r\n' > one.txt
printf 'two\r\n' > two.txt
7z a -bd -tzip -mem=AES256 -p"$pw" "$out/multi.zip" one.txt two.txt \
    invoice.doc.txt >/dev/null

# The padded document: a real head (an OLE2 file given in OLE_HEAD, or a
# synthetic OLE2 signature and some text), then zeros, through stdin so
# that zip writes a streamed member with a data descriptor.
if [ -n "${OLE_HEAD:-}" ] && [ -f "$OLE_HEAD" ]; then
	cp "$OLE_HEAD" head.bin
else
	printf '\320\317\021\340\241\261\032\341' > head.bin
	i=0
	while [ $i -lt 64 ]; do
		printf 'Attribute VB_Name = "ThisDocument" Sub AutoOpen()\r\n'
		i=$((i + 1))
	done >> head.bin
fi
{ cat head.bin; head -c "$((inflated_mb * 1024 * 1024))" /dev/zero; } |
    zip -q -X -fz- inflated.zip -
printf '@ -\n@=doc.doc\n' | zipnote -w inflated.zip
mv inflated.zip "$out/inflated.zip"

if [ "$big_mb" -gt 0 ]; then
	head -c "$((big_mb * 1024 * 1024))" /dev/urandom > big.bin
	zip -q -X -P "$pw" "$out/big-zipcrypto.zip" big.bin
	7z a -bd -tzip -mem=AES256 -p"$pw" "$out/big-aes256.zip" big.bin \
	    >/dev/null
fi
exit 0
