-- POST /api/students with valid bodies (no e-mail, so no unique-index conflicts).
-- BENCH_TOKEN, when set, goes with every request (bench/run sets it for students-api).
local token = os.getenv("BENCH_TOKEN")
if token then wrk.headers["Authorization"] = "Bearer " .. token end
local json_headers = {["Content-Type"] = "application/json", ["Authorization"] = wrk.headers["Authorization"]}
local body = '{"name": "Bench Student", "grade": "B+"}'
request = function()
  return wrk.format("POST", "/api/students", json_headers, body)
end
