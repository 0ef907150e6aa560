-- wrk script of the read path: GET /v1/accounts/{id}/transactions?limit=100
-- on a random account of BENCH_IDS (one id a line) per request, with the
-- bearer token BENCH_TOKEN.  nginx gets the very same requests.
local ids = {}
for line in io.lines(os.getenv("BENCH_IDS")) do
  ids[#ids + 1] = line
end
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("seed", threads)
end

function init(args)
  math.randomseed(seed * 7919 + os.time())
end

function request()
  return wrk.format("GET", "/v1/accounts/" .. ids[math.random(#ids)] ..
    "/transactions?limit=100")
end
