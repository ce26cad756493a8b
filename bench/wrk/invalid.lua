-- POST /api/students with an invalid body: the 422 path (no database round trip expected).
local body = '{"name": "", "grade": "Z", "email": "not-an-email"}'
request = function()
  return wrk.format("POST", "/api/students", {["Content-Type"] = "application/json"}, body)
end
