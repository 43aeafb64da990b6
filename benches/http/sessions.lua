-- benches/http/sessions.lua: spreads wrk's requests over many sessions. Each thread reads
-- the cookie file (one `name=value` per line) given after `--` and sends its requests
-- with the cookies in turn, every thread starting at its own offset, so that thousands of
-- sessions are in use at once instead of one row or file under 64 connections.
--
--   wrk -t2 -c64 -d10s -s sessions.lua http://127.0.0.1:8080/read -- cookies.txt
local cookies = {}
local next_cookie = 1
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then cookies[#cookies + 1] = line end
  end
  -- Threads start at different places in the list.
  next_cookie = (id * 7919) % #cookies + 1
end

function request()
  local cookie = cookies[next_cookie]
  next_cookie = next_cookie % #cookies + 1
  return wrk.format(nil, nil, { ["Cookie"] = cookie })
end
