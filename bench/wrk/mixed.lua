-- 90% GET by random id, 10% POST.
-- BENCH_TOKEN, when set, goes with every request (bench/run sets it for students-api).
local token = os.getenv("BENCH_TOKEN")
if token then wrk.headers["Authorization"] = "Bearer " .. token end
local json_headers = {["Content-Type"] = "application/json", ["Authorization"] = wrk.headers["Authorization"]}
local rows = tonumber(os.getenv("BENCH_ROWS") or "100000")
math.randomseed(os.time())
local body = '{"name": "Bench Student", "grade": "B+"}'
request = function()
  if math.random(1, 10) == 1 then
    return wrk.format("POST", "/api/students", json_headers, body)
  end
  return wrk.format("GET", "/api/students/" .. math.random(1, rows))
end
