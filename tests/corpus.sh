#!/bin/sh
# corpus.sh - emofilter-scan over every mail file of ../shared/corpus.
#
# Asserts for each input: no crash (exit 0 or 1, never a signal or 2), one
# valid JSON report per message, every message finished well inside the
# per-message deadline (no "time" limit hit). Skips (77) without the corpus.
# EMF_CORPUS_DIRS overrides the folder list; EMF_CORPUS_JOBS the batch size.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
corpus=${EMF_CORPUS:-$top_srcdir/../shared/corpus}
scan=$top_builddir/src/cli/emofilter-scan

[ -d "$corpus" ] || { echo "SKIP: no corpus at $corpus"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }

dirs=${EMF_CORPUS_DIRS:-"spamassassin-corpus mimekit-testdata thunderbird-testmail
stalwart-mailparser-eml ruby-mail-fixtures gmime-testdata sisimai-set-of-emails
tika-mail phishing-pot-subset spamscope-mailparser-mails
nodemailer-mailparser-fixtures cpython-email-testdata yara-rules-maldocs/email"}

exec python3 - "$scan" "$top_srcdir/tests/emofilter-test.conf" "$corpus" $dirs <<'PY'
import json, os, subprocess, sys, time

scan, conf, corpus, dirs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
skip_ext = {".json", ".md", ".tsv", ".py", ".rb", ".js", ".pl", ".list",
            ".gz", ".bz2", ".png", ".jpg", ".gif", ".p12", ".tnef", ".msg",
            ".yar", ".yara", ".rule", ".html", ".htm", ".txt.gz"}
skip_names = {"LICENSE", "COPYING", "NOTICE", "README", "MIT-LICENSE",
              "SELECTION.tsv", "LICENSE-stdlib-Apache-2.0"}
files = []
for d in dirs:
    for root, _, names in os.walk(os.path.join(corpus, d)):
        for n in sorted(names):
            base, ext = os.path.splitext(n)
            if n in skip_names or base.upper() in ("LICENSE", "README", "COPYING", "NOTICE"):
                continue
            if ext.lower() in skip_ext and d != "spamassassin-corpus":
                continue
            files.append(os.path.join(root, n))
files.sort()
batch = int(os.environ.get("EMF_CORPUS_JOBS", "200"))
failures, reports, worst = [], 0, (0, "")
t0 = time.time()
for i in range(0, len(files), batch):
    chunk = files[i:i + batch]
    p = subprocess.run([scan, "-c", conf, "--json"] + chunk,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode not in (0, 1):
        # Find the culprit one by one so the failure names a file.
        for f in chunk:
            q = subprocess.run([scan, "-c", conf, "--json", f],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if q.returncode not in (0, 1):
                failures.append("%s: exit %d %s" % (f, q.returncode,
                                q.stderr.decode(errors="replace")[-300:]))
        continue
    # split("\n"), not splitlines(): U+2028 and friends may sit raw in JSON.
    lines = [l for l in p.stdout.decode("utf-8", errors="strict").split("\n") if l]
    if len(lines) < len(chunk):
        failures.append("batch at %s: %d reports for %d files" % (chunk[0], len(lines), len(chunk)))
    for line in lines:
        try:
            r = json.loads(line)
        except ValueError as e:
            failures.append("invalid JSON: %s: %s" % (e, line[:200]))
            continue
        reports += 1
        for k in ("id", "score", "action", "symbols", "objects", "scan_ms"):
            if k not in r:
                failures.append("report %s lacks %s" % (r.get("id"), k))
        if "time" in r.get("limits_hit", []):
            failures.append("report %s (%s) hit the deadline" % (r["id"], r["headers"].get("subject")))
        if r["scan_ms"] > worst[0]:
            worst = (r["scan_ms"], r["headers"].get("subject") or "")
el = time.time() - t0
print("corpus: %d files, %d reports in %.1f s; slowest message %d ms (%s)"
      % (len(files), reports, el, worst[0], worst[1][:60]))
for f in failures[:50]:
    print("FAIL:", f)
print("%d passed, %d failed" % (len(files) - len(failures), len(failures)))
sys.exit(1 if failures else 0)
PY
