#!/bin/sh
# make-messages.sh DIR - write the test messages of the milter tests.
#
# Each message is designed to hit symbols that exist in the library today,
# with the weights of tests/milter/test-scores.conf:
#   clean.eml       nothing                                  -> accept
#   tag.eml         a zip named report.pdf (FILE_TYPE_MISMATCH 5) -> tag
#   quarantine.eml  a `zip -P` archive, password nowhere in the mail
#                   (ARCHIVE_ENCRYPTED 10 + ARCHIVE_PASSWORD_UNKNOWN 15) -> quarantine
#   reject.eml      setup.exe attached (EXECUTABLE_ATTACHMENT 50) -> reject
#   sleep.eml       clean, with the test-hook marker in the Subject
# Every message carries forged X-Emofilter-Score/-Action headers.
# Needs python3 and zip.
set -eu
dir=$1
mkdir -p "$dir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "hello, nothing to see" > "$work/notes.txt"
(cd "$work" && zip -q plain.zip notes.txt && zip -q -P 'not-in-the-mail' enc.zip notes.txt)
python3 - "$dir" "$work" <<'PY'
import sys
from email.message import EmailMessage
from email.policy import SMTP
out, work = sys.argv[1], sys.argv[2]
def mk(name, subj, att=None, fname=None):
    m = EmailMessage(policy=SMTP)
    m['From'] = 'Alice <alice@example.org>'
    m['To'] = 'bob@example.net'
    m['Subject'] = subj
    m['Date'] = 'Wed, 25 Nov 2026 06:00:00 +0000'
    m['Message-ID'] = '<%s.emftest@example.org>' % name
    m['X-Emofilter-Score'] = '-100'
    m['X-Emofilter-Action'] = 'accept'
    m.set_content('Hello Bob,\nplease find the document attached.\nRegards, Alice\n')
    if att is not None:
        m.add_attachment(att, maintype='application', subtype='octet-stream',
                         filename=fname)
    with open('%s/%s.eml' % (out, name), 'wb') as f:
        f.write(m.as_bytes())
rd = lambda n: open('%s/%s' % (work, n), 'rb').read()
mk('clean', 'clean note')
mk('tag', 'tag me', rd('plain.zip'), 'report.pdf')
mk('quarantine', 'quarantine me', rd('enc.zip'), 'documents.zip')
mk('reject', 'reject me', b'@echo off\r\necho hi\r\n', 'setup.exe')
mk('sleep', 'emf-test-sleep')
PY
