-- protocol.lua - milter protocol cases for emofilter, run by miltertest.
--
-- Driven by tests/milter/miltertest.sh, which generates the messages,
-- starts emofilter with tests/milter/test.conf thresholds and sets:
--   EMF_SOCKET  the filter's socket, EMF_DATA the message directory.
-- Each case sends one message the way Postfix would (negotiation with
-- SMFIP_HDR_LEADSPC, connect, helo, macros, envelope, headers, body, eom)
-- and checks the filter's reply and header operations.

local sock = os.getenv("EMF_SOCKET")
local data = os.getenv("EMF_DATA")
local failures = 0

local function check(cond, what)
	if cond then
		mt.echo("ok: " .. what)
	else
		mt.echo("FAIL: " .. what)
		failures = failures + 1
	end
end

-- Split a message file into header fields and the body (CRLF lines).
local function read_msg(path)
	local f = assert(io.open(path, "rb"))
	local text = f:read("*a")
	f:close()
	text = text:gsub("\r\n", "\n")
	local head, body = text:match("^(.-)\n\n(.*)$")
	local hdrs = {}
	for line in (head .. "\n"):gmatch("(.-)\n") do
		if line:match("^[ \t]") and #hdrs > 0 then
			hdrs[#hdrs].value = hdrs[#hdrs].value .. "\n" .. line
		else
			-- miltertest adds the space after the colon itself
			local n, v = line:match("^([^:]+): ?(.*)$")
			table.insert(hdrs, { name = n, value = v })
		end
	end
	return hdrs, body:gsub("\n", "\r\n")
end

-- Send one message on a new connection; returns the connection after eom.
-- extra_rcpt, if given, is a second recipient.
local function send(file, qid, extra_rcpt)
	local conn = mt.connect(sock, 20, 0.25)
	assert(conn, "cannot connect to " .. sock)
	assert(mt.negotiate(conn, nil, nil, nil) == nil)
	assert(mt.macro(conn, SMFIC_CONNECT, "{client_addr}", "192.0.2.7") == nil)
	assert(mt.conninfo(conn, "client.example.org", "192.0.2.7") == nil)
	assert(mt.helo(conn, "client.example.org") == nil)
	assert(mt.macro(conn, SMFIC_MAIL, "i", qid) == nil)
	assert(mt.mailfrom(conn, "<alice@example.org>") == nil)
	assert(mt.rcptto(conn, "<bob@example.net>") == nil)
	if extra_rcpt then
		assert(mt.rcptto(conn, extra_rcpt) == nil)
	end
	local hdrs, body = read_msg(data .. "/" .. file)
	for _, h in ipairs(hdrs) do
		assert(mt.header(conn, h.name, h.value) == nil)
	end
	assert(mt.eoh(conn) == nil)
	assert(mt.bodystring(conn, body) == nil)
	assert(mt.eom(conn) == nil)
	return conn
end

mt.set_timeout(30)

-- Leading spaces of header values are asked for, so the spool is exact.
local conn = send("clean.eml", "QCLEAN1")
check(mt.test_option(conn, SMFIP_HDR_LEADSPC), "negotiated SMFIP_HDR_LEADSPC")
check(mt.getreply(conn) == SMFIR_ACCEPT, "clean: accepted")
check(mt.eom_check(conn, MT_HDRDELETE, "X-Emofilter-Score"),
    "clean: forged X-Emofilter-Score deleted")
check(mt.eom_check(conn, MT_HDRDELETE, "X-Emofilter-Action"),
    "clean: forged X-Emofilter-Action deleted")
check(mt.eom_check(conn, MT_HDRADD, "X-Emofilter-Score", " 0.00"),
    "clean: X-Emofilter-Score 0.00 added")
check(mt.eom_check(conn, MT_HDRADD, "X-Emofilter-Action", " accept"),
    "clean: X-Emofilter-Action accept")
check(mt.eom_check(conn, MT_HDRADD, "X-Emofilter-ID"), "clean: X-Emofilter-ID")
check(not mt.eom_check(conn, MT_HDRCHANGE, "Subject"),
    "clean: Subject untouched")
mt.disconnect(conn)

conn = send("tag.eml", "QTAG1")
check(mt.getreply(conn) == SMFIR_ACCEPT, "tag: accepted")
check(mt.eom_check(conn, MT_HDRADD, "X-Emofilter-Action", " tag"),
    "tag: X-Emofilter-Action tag")
check(mt.eom_check(conn, MT_HDRADD, "X-Emofilter-Symbols",
    " FILE_TYPE_MISMATCH(5)"), "tag: X-Emofilter-Symbols")
check(mt.eom_check(conn, MT_HDRCHANGE, "Subject", " [SUSPICIOUS] tag me"),
    "tag: subject prefixed")
mt.disconnect(conn)

conn = send("quarantine.eml", "QQUAR1")
check(mt.getreply(conn) == SMFIR_ACCEPT, "quarantine: accepted into hold")
check(mt.eom_check(conn, MT_QUARANTINE), "quarantine: held (smfi_quarantine)")
check(mt.eom_check(conn, MT_HDRADD, "X-Emofilter-Action", " quarantine"),
    "quarantine: X-Emofilter-Action quarantine")
mt.disconnect(conn)

conn = send("reject.eml", "QREJ1")
check(mt.getreply(conn) == SMFIR_REPLYCODE, "reject: 550 reply code")
mt.disconnect(conn)

-- The mail that only tags bob is rejected when carol's policy says so.
conn = send("tag.eml", "QPOL1", "<Carol@Strict.Example>")
check(mt.getreply(conn) == SMFIR_REPLYCODE, "policy: 550 for a strict recipient")
mt.disconnect(conn)

-- The test hook makes the worker sleep past milter.scan_timeout_ms: the
-- default on_scan_failure is tempfail.
conn = send("sleep.eml", "QSLEEP1")
check(mt.getreply(conn) == SMFIR_REPLYCODE or mt.getreply(conn) == SMFIR_TEMPFAIL,
    "timeout: tempfailed")
mt.disconnect(conn)

-- After the killed worker, the pool still scans.
conn = send("clean.eml", "QCLEAN2")
check(mt.getreply(conn) == SMFIR_ACCEPT, "after timeout: clean accepted")
mt.disconnect(conn)

if failures > 0 then
	error(failures .. " check(s) failed")
end
