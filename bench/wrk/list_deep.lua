-- GET /api/students?limit=20&cursor=...: a page deep in the walk (BENCH_CURSOR, made by bench/run).
local cursor = os.getenv("BENCH_CURSOR")
request = function()
  return wrk.format("GET", "/api/students?limit=20&cursor=" .. cursor)
end
