-- GET /api/students?limit=20&cursor=...: a page deep in the walk (BENCH_CURSOR, made by bench/run).
-- BENCH_TOKEN, when set, goes with every request (bench/run sets it for students-api).
local token = os.getenv("BENCH_TOKEN")
if token then wrk.headers["Authorization"] = "Bearer " .. token end
local cursor = os.getenv("BENCH_CURSOR")
request = function()
  return wrk.format("GET", "/api/students?limit=20&cursor=" .. cursor)
end
