-- GET /api/students?limit=20: the first page.
-- BENCH_TOKEN, when set, goes with every request (bench/run sets it for students-api).
local token = os.getenv("BENCH_TOKEN")
if token then wrk.headers["Authorization"] = "Bearer " .. token end
request = function()
  return wrk.format("GET", "/api/students?limit=20")
end
