-- 90% GET by random id, 10% POST.
local rows = tonumber(os.getenv("BENCH_ROWS") or "100000")
math.randomseed(os.time())
local body = '{"name": "Bench Student", "grade": "B+"}'
request = function()
  if math.random(1, 10) == 1 then
    return wrk.format("POST", "/api/students", {["Content-Type"] = "application/json"}, body)
  end
  return wrk.format("GET", "/api/students/" .. math.random(1, rows))
end
