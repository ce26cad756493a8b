-- GET /api/students/{id} for random ids among the seeded rows (BENCH_ROWS, default 100000).
-- BENCH_TOKEN, when set, goes with every request (bench/run sets it for students-api).
local token = os.getenv("BENCH_TOKEN")
if token then wrk.headers["Authorization"] = "Bearer " .. token end
local rows = tonumber(os.getenv("BENCH_ROWS") or "100000")
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/api/students/" .. math.random(1, rows))
end
