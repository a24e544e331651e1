-- wrk script: GET /api/search with the benchmark's queries in turn.
-- wrk -t2 -c64 -d20s -s wrk-queries.lua http://127.0.0.1:3999 -- /tmp/sb/queries.txt
local queries = {}
local counter = 0

local function urlencode(s)
  return (s:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function init(args)
  local file = args[1] or "/tmp/sb/queries.txt"
  for line in io.lines(file) do
    if #line > 0 then table.insert(queries, "/api/search?lang=nl&q=" .. urlencode(line)) end
  end
  counter = math.random(#queries)
end

function request()
  counter = counter % #queries + 1
  return wrk.format("GET", queries[counter])
end
