-- send-one.lua - send one message file through the filter, as Postfix
-- would, for the failure cases of miltertest.sh. Environment:
--   EMF_SOCKET  the filter's socket, EMF_FILE the message, EMF_QID its
--   queue ID (macro i). Prints "reply=N" (the SMFIR_* code) at the end.
local sock = os.getenv("EMF_SOCKET")
local f = assert(io.open(os.getenv("EMF_FILE"), "rb"))
local text = f:read("*a")
f:close()
text = text:gsub("\r\n", "\n")
local head, body = text:match("^(.-)\n\n(.*)$")
local conn = mt.connect(sock, 20, 0.25)
assert(conn, "cannot connect to " .. sock)
mt.set_timeout(30)
assert(mt.negotiate(conn, nil, nil, nil) == nil)
assert(mt.conninfo(conn, "client.example.org", "192.0.2.7") == nil)
assert(mt.helo(conn, "client.example.org") == nil)
assert(mt.macro(conn, SMFIC_MAIL, "i", os.getenv("EMF_QID")) == nil)
assert(mt.mailfrom(conn, "<alice@example.org>") == nil)
assert(mt.rcptto(conn, "<bob@example.net>") == nil)
local hdrs = {}
for line in (head .. "\n"):gmatch("(.-)\n") do
	if line:match("^[ \t]") and #hdrs > 0 then
		hdrs[#hdrs].value = hdrs[#hdrs].value .. "\n" .. line
	else
		local n, v = line:match("^([^:]+): ?(.*)$")
		table.insert(hdrs, { name = n, value = v })
	end
end
for _, h in ipairs(hdrs) do
	assert(mt.header(conn, h.name, h.value) == nil)
end
assert(mt.eoh(conn) == nil)
assert(mt.bodystring(conn, (body:gsub("\n", "\r\n"))) == nil)
assert(mt.eom(conn) == nil)
mt.echo("reply=" .. tostring(mt.getreply(conn)))
mt.disconnect(conn)
