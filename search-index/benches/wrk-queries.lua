-- wrk script: GET /api/search with the benchmark's queries in turn.
-- wrk -t2 -c64 -d20s -s wrk-queries.lua http://127.0.0.1:3999 -- /tmp/sb/queries.txt
--
-- Each wrk thread has a Lua state of its own, and unseeded they would all draw the same
-- numbers: the threads start this far apart in the list, from a start that differs per run,
-- so that with the distinct queries no query is asked twice (and none is answered from the
-- service's cache) unless a run asks for more queries than the file has.
local STRIDE = 100003
local queries = {}
local counter = 0
local threads = 0

local function urlencode(s)
  return (s:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function setup(thread)
  thread:set("thread_number", threads)
  threads = threads + 1
end

function init(args)
  local file = args[1] or "/tmp/sb/queries.txt"
  for line in io.lines(file) do
    if #line > 0 then table.insert(queries, "/api/search?lang=nl&q=" .. urlencode(line)) end
  end
  math.randomseed(os.time())
  counter = (math.random(#queries) + (thread_number or 0) * STRIDE) % #queries
end

function request()
  counter = counter % #queries + 1
  return wrk.format("GET", queries[counter])
end
