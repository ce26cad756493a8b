-- POST /api/students with valid bodies (no e-mail, so no unique-index conflicts).
local body = '{"name": "Bench Student", "grade": "B+"}'
request = function()
  return wrk.format("POST", "/api/students", {["Content-Type"] = "application/json"}, body)
end
