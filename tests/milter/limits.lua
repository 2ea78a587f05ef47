-- limits.lua - one size limit and Japanese-safe headers, through the
-- milter protocol (run by tests/milter/limits.sh with miltertest).
--   EMF_SOCKET the filter's socket, EMF_DATA the message directory,
--   EMF_CASE   "tag-and-size", "sleep" or "oversize-reject".
local sock = os.getenv("EMF_SOCKET")
local data = os.getenv("EMF_DATA")
local case = os.getenv("EMF_CASE")
local failures = 0

local function check(cond, what)
	if cond then
		mt.echo("ok: " .. what)
	else
		mt.echo("FAIL: " .. what)
		failures = failures + 1
	end
end

-- Headers (name, value) and a CRLF body of a message file.
local function read_msg(path)
	local f = assert(io.open(path, "rb"))
	local text = f:read("*a"):gsub("\r\n", "\n")
	f:close()
	local head, body = text:match("^(.-)\n\n(.*)$")
	local hdrs = {}
	for line in (head .. "\n"):gmatch("(.-)\n") do
		if line:match("^[ \t]") and #hdrs > 0 then
			hdrs[#hdrs].value = hdrs[#hdrs].value .. "\n" .. line
		else
			local n, v = line:match("^([^:]+): ?(.*)$")
			table.insert(hdrs, { name = n, value = v })
		end
	end
	return hdrs, body:gsub("\n", "\r\n")
end

-- hdrs: list of {name, value}; subject replaces the Subject if given.
local function send(qid, hdrs, body, subject)
	local conn = mt.connect(sock, 20, 0.25)
	assert(conn, "cannot connect to " .. sock)
	assert(mt.negotiate(conn, nil, nil, nil) == nil)
	assert(mt.conninfo(conn, "client.example.org", "192.0.2.7") == nil)
	assert(mt.helo(conn, "client.example.org") == nil)
	assert(mt.macro(conn, SMFIC_MAIL, "i", qid) == nil)
	assert(mt.mailfrom(conn, "<alice@example.org>") == nil)
	assert(mt.rcptto(conn, "<bob@example.net>") == nil)
	assert(mt.rcptto(conn, "<carol@example.net>") == nil)
	for _, h in ipairs(hdrs) do
		local v = h.value
		if subject and h.name:lower() == "subject" then v = subject end
		assert(mt.header(conn, h.name, v) == nil)
	end
	assert(mt.eoh(conn) == nil)
	assert(mt.bodystring(conn, body) == nil)
	assert(mt.eom(conn) == nil)
	return conn
end

local plain = {
	{ name = "From", value = "alice@example.org" },
	{ name = "To", value = "bob@example.net" },
	{ name = "Subject", value = "size test" },
	{ name = "Message-ID", value = "<size.emftest@example.org>" },
}
local big = string.rep("0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz\r\n", 60)

if case == "tag-and-size" then
	-- Tagged: the Japanese prefix is encoded, the ISO-2022-JP subject
	-- kept as it came, folded between them.
	local hdrs, body = read_msg(data .. "/tag.eml")
	local jp = "=?ISO-2022-JP?B?GyRCQEE1YT1xJE4kNEF3SVUbKEI=?="
	local conn = send("QJP1", hdrs, body, jp)
	check(mt.getreply(conn) == SMFIR_ACCEPT, "tag: accepted")
	check(mt.eom_check(conn, MT_HDRCHANGE, "Subject",
	    " =?UTF-8?Q?=E3=80=90=E8=A6=81=E6=B3=A8=E6=84=8F=E3=80=91_?=\n " .. jp),
	    "tag: Subject = encoded prefix, fold, ISO-2022-JP original")
	mt.disconnect(conn)
	-- A plain subject: encoded prefix, then the text.
	conn = send("QJP2", hdrs, body, "Invoice")
	check(mt.eom_check(conn, MT_HDRCHANGE, "Subject",
	    " =?UTF-8?Q?=E3=80=90=E8=A6=81=E6=B3=A8=E6=84=8F=E3=80=91?= Invoice"),
	    "tag: Subject = encoded prefix, plain original")
	mt.disconnect(conn)
	-- Just under the limit: scanned.
	conn = send("QSMALL1", plain, "small body\r\n")
	check(mt.getreply(conn) == SMFIR_ACCEPT, "small: accepted")
	check(mt.eom_check(conn, MT_HDRADD, "X-Emofilter-Action", " accept"),
	    "small: scanned (X-Emofilter-Action: accept)")
	mt.disconnect(conn)
	-- Above limits.max_message_bytes: tagged unscanned, never clean.
	conn = send("QBIG1", plain, big)
	check(mt.getreply(conn) == SMFIR_ACCEPT, "oversize: delivered (on_oversize = tag)")
	check(mt.eom_check(conn, MT_HDRADD, "X-Emofilter-Action", " unscanned"),
	    "oversize: X-Emofilter-Action: unscanned")
	check(mt.eom_check(conn, MT_HDRADD, "X-Emofilter-Symbols", " LIMIT_EXCEEDED"),
	    "oversize: X-Emofilter-Symbols: LIMIT_EXCEEDED")
	check(not mt.eom_check(conn, MT_HDRADD, "X-Emofilter-Action", " accept"),
	    "oversize: not X-Emofilter-Action: accept")
	mt.disconnect(conn)
elseif case == "sleep" then
	-- A scan past its deadline: the worker is killed, the mail tempfailed.
	local hdrs, body = read_msg(data .. "/sleep.eml")
	local conn = send("QSLEEP1", hdrs, body)
	check(mt.getreply(conn) == SMFIR_REPLYCODE, "late scan: tempfailed")
	mt.disconnect(conn)
elseif case == "oversize-reject" then
	local conn = send("QBIG2", plain, big)
	check(mt.getreply(conn) == SMFIR_REPLYCODE, "oversize: rejected (on_oversize = reject)")
	mt.disconnect(conn)
end

if failures > 0 then
	error(failures .. " check(s) failed")
end
