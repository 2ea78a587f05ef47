#!/bin/sh
# office-seeds.sh DIR - seed corpora for the Office fuzzers from the public
# corpus: DIR/ole (compound files), DIR/ooxml (XML parts of the OOXML
# files), DIR/biff (Workbook streams are inside OLE2: whole .xls files and
# .slk), DIR/vba (the .xls/.doc files: the harness finds compressed
# containers anywhere), DIR/office (every Office file < 1 MB).
set -e
out=${1:?usage: office-seeds.sh DIR}
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
corpus=${EMF_CORPUS:-}
for c in "$top_srcdir/../shared/corpus" "$top_srcdir/../../shared/corpus"; do
	[ -z "$corpus" ] && [ -d "$c" ] && corpus=$c
done
[ -n "$corpus" ] || { echo "corpus not found"; exit 77; }
mkdir -p "$out/ole" "$out/ooxml" "$out/biff" "$out/vba" "$out/office"
python3 - "$corpus" "$out" <<'PY'
import hashlib, os, sys, zipfile, io
corpus, out = sys.argv[1], sys.argv[2]
def put(kind, data):
    h = hashlib.sha1(data).hexdigest()
    open(os.path.join(out, kind, h), "wb").write(data)
for d in ("tika-office", "poi-testdata", "calamine-tests", "oletools-testdata",
          "msoffcrypto-testdata"):
    for root, _, names in os.walk(os.path.join(corpus, d)):
        for n in names:
            p = os.path.join(root, n)
            if os.path.getsize(p) > 1 << 20:
                continue
            data = open(p, "rb").read()
            put("office", data)
            if data[:8] == bytes.fromhex("d0cf11e0a1b11ae1"):
                put("ole", data)
                if n.lower().endswith((".xls", ".xlt")):
                    put("biff", data)
                put("vba", data)
            elif n.lower().endswith(".slk"):
                put("biff", data)
            elif data[:2] == b"PK":
                try:
                    z = zipfile.ZipFile(io.BytesIO(data))
                    for i in z.infolist()[:40]:
                        if i.filename.endswith((".xml", ".rels")) and i.file_size < 1 << 18:
                            put("ooxml", z.read(i))
                except Exception:
                    pass
PY
for k in ole ooxml biff vba office; do
	echo "$k: $(ls "$out/$k" | wc -l) seeds"
done
