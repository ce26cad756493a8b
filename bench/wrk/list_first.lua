-- GET /api/students?limit=20: the first page.
request = function()
  return wrk.format("GET", "/api/students?limit=20")
end
