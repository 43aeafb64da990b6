-- wrk script: every request names a session of its own thread's slice of the cookies in
-- the file $COOKIES (one "session=..." per line), round robin, so that no two requests in
-- flight share a session (no write conflicts). Used by merge.sh for the no-conflict cost.
local count = 0
function setup(thread)
  thread:set("id", count)
  count = count + 1
end

function init(args)
  cookies = {}
  for line in io.lines(os.getenv("COOKIES")) do
    cookies[#cookies + 1] = line
  end
  per = math.floor(#cookies / tonumber(os.getenv("THREADS")))
  i = 0
end

function request()
  i = i + 1
  return wrk.format("GET", nil, { Cookie = cookies[id * per + (i % per) + 1] })
end
