#!/bin/sh
# make-seeds.sh - build the fuzzers' seed corpora from ../shared/corpus,
# the bundled samples and the regression inputs.
#
#   tests/fuzz/make-seeds.sh OUTDIR
#
# Writes OUTDIR/<harness>/ for every harness (message mime charset html
# config zip). Seeds are at most 64 KiB (the harnesses' -max_len) and
# sampled evenly from each corpus folder so every source is represented
# without thousands of near-duplicates. Without the corpus the seeds are
# the samples and the regression inputs only (a note says so).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:?usage: make-seeds.sh OUTDIR}
# The corpus sits beside the checkout (../shared/corpus), or beside the
# worktrees' parent (../../shared/corpus); EMF_CORPUS overrides.
corpus=${EMF_CORPUS:-$top/../shared/corpus}
[ -d "$corpus" ] || [ -n "${EMF_CORPUS:-}" ] || corpus=$top/../../shared/corpus
mkdir -p "$out"

# The bundled samples (contrib/make-samples.py needs zip and 7z).
samples=$out/.samples
rm -rf "$samples"
if command -v zip >/dev/null && command -v 7z >/dev/null; then
	python3 "$top/contrib/make-samples.py" "$samples" >/dev/null ||
	    echo "make-seeds: samples not built" >&2
fi

exec python3 - "$top" "$out" "$corpus" "$samples" <<'PY'
import hashlib, os, shutil, sys

top, out, corpus, samples = sys.argv[1:5]
MAX = 65536
harnesses = ["message", "mime", "charset", "html", "config", "zip"]
seen = {h: set() for h in harnesses}
count = {h: 0 for h in harnesses}

def add(h, data, hint=""):
    if not data or len(data) > MAX:
        return
    d = hashlib.sha1(data).hexdigest()
    if d in seen[h]:
        return
    seen[h].add(d)
    os.makedirs(os.path.join(out, h), exist_ok=True)
    with open(os.path.join(out, h, d[:16]), "wb") as f:
        f.write(data)
    count[h] += 1

def files(root):
    for r, _, names in os.walk(root):
        for n in sorted(names):
            p = os.path.join(r, n)
            if os.path.isfile(p) and 0 < os.path.getsize(p) <= MAX:
                yield p

def sample(paths, k):
    paths = sorted(paths)
    if len(paths) <= k:
        return paths
    step = len(paths) / k
    return [paths[int(i * step)] for i in range(k)]

def read(p):
    with open(p, "rb") as f:
        return f.read()

for h in harnesses:
    shutil.rmtree(os.path.join(out, h), ignore_errors=True)
    reg = os.path.join(top, "tests", "fuzz", "regress", h)
    if os.path.isdir(reg):
        for p in files(reg):
            add(h, read(p))

# Mail: every mail folder of the corpus, up to 40 files each.
mail_dirs = ["spamassassin-corpus", "mimekit-testdata", "thunderbird-testmail",
             "stalwart-mailparser-eml", "ruby-mail-fixtures", "gmime-testdata",
             "sisimai-set-of-emails", "tika-mail", "phishing-pot-subset",
             "spamscope-mailparser-mails", "nodemailer-mailparser-fixtures",
             "cpython-email-testdata", "yara-rules-maldocs/email"]
skip_ext = (".json", ".md", ".tsv", ".py", ".rb", ".js", ".pl", ".yar",
            ".yara", ".png", ".jpg", ".gif", ".gz", ".bz2")
have_corpus = os.path.isdir(corpus)
if have_corpus:
    for d in mail_dirs:
        cand = [p for p in files(os.path.join(corpus, d))
                if not p.lower().endswith(skip_ext)
                and "LICENSE" not in os.path.basename(p).upper()]
        for p in sample(cand, 40):
            data = read(p)
            add("message", data)
            if count["mime"] < 200:
                add("mime", data)
    # Archives and Office files: by magic, not by name.
    arch_dirs = ["go-archive-zip-testdata", "libzip-regress", "tika-archives",
                 "recursiveextractor-testdata", "libarchive-testdata",
                 "clamav-unittest", "tika-office", "poi-testdata",
                 "oletools-testdata", "calamine-tests", "msoffcrypto-testdata",
                 "olefile-tests", "yara-rules-maldocs"]
    for d in arch_dirs:
        cand = []
        for p in files(os.path.join(corpus, d)):
            with open(p, "rb") as f:
                magic = f.read(8)
            if magic[:4] in (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08") or \
               magic == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
                cand.append(p)
        for p in sample(cand, 60):
            add("zip", read(p))
    for p in files(corpus):
        if p.lower().endswith((".html", ".htm")):
            add("html", read(p))

# Samples: mails to the mail harnesses, their attachments to zip.
if os.path.isdir(samples):
    for p in files(samples):
        data = read(p)
        if p.endswith(".eml"):
            add("message", data)
            add("mime", data)
        elif data[:2] == b"PK" or data[:4] == b"\xd0\xcf\x11\xe0":
            add("zip", data)

# Charset: label length byte + label + text, for every label mail uses.
texts = ["パスワード：Abc123 請求書を送付します。①㈱髙", "Invoice attached. Zürich €",
         "비밀번호 암호", "密码 附件"]
labels = ["iso-2022-jp", "shift_jis", "euc-jp", "utf-8", "cp932", "windows-1252",
          "iso-8859-1", "us-ascii", "gb2312", "big5", "euc-kr", "utf-7",
          "x-unknown", "", "bogus-charset"]
codec = {"iso-2022-jp": "iso2022_jp_ext", "cp932": "cp932", "shift_jis": "cp932",
         "euc-jp": "euc_jp", "utf-7": "utf_7", "gb2312": "gb18030", "big5": "big5",
         "euc-kr": "euc_kr", "windows-1252": "cp1252", "iso-8859-1": "latin-1"}
for lab in labels:
    for t in texts:
        c = codec.get(lab, "utf-8")
        data = t.encode(c, errors="replace")
        add("charset", bytes([len(lab)]) + lab.encode() + data)
        # The same text under a wrong label.
        add("charset", bytes([len(lab)]) + lab.encode() + t.encode("cp932", errors="replace"))
# HTML: a few hand-made pages besides the corpus ones.
for h in [b"<html><head><meta http-equiv=Content-Type content='text/html; charset=iso-2022-jp'></head><body>\x1b$B%Q%9%o!<%I\x1b(B: abc</body></html>",
          b"<p>Enable&nbsp;Content<br><a href='http://x.example/a?b=1&amp;c=2'>x</a><img src=cid:1></p>",
          b"<!-- c --><script>var a='<p>';</script><style>p{}</style><table><tr><td>1<td>2</table>&#12497;&#x30B9;"]:
    add("html", h)
# Config: the shipped file and the test configurations.
for p in [os.path.join(top, "conf", "emofilter.conf")] + \
         [os.path.join(top, "tests", n) for n in os.listdir(os.path.join(top, "tests")) if n.endswith(".conf")]:
    if os.path.isfile(p):
        data = read(p).replace(b'@include "../conf/emofilter.conf"', b"")
        add("config", data)
print("seeds:", " ".join("%s=%d" % (h, count[h]) for h in harnesses),
      "" if have_corpus else "(no corpus at %s: samples and regression inputs only)" % corpus)
PY
