-- verify_forwarded.lua: GET /api/v1/verify as a gateway's forward-auth call,
-- one credential, X-Forwarded-Method / X-Forwarded-Uri rotating over a file.
--   wrk -t1 -c32 -d10s -s bench/verify_forwarded.lua URL -- KEY TOKEN REQUESTS
-- REQUESTS has "METHOD URI" lines. Requests are formatted once in init(), so
-- the client's cost is the same for every server. The rotation and done()
-- ("KSBENCH {json}", which bench/run.py's wrk() reads) are verify.lua's.
dofile((os.getenv("KS_BENCH_DIR") or "bench") .. "/verify.lua")

function init(args)
   local key, token, path = args[1], args[2], args[3]
   for line in io.lines(path) do
      local method, uri = line:match("^(%S+) (%S+)$")
      add_request(wrk.format("GET", "/api/v1/verify", {["X-API-Key"] = key, ["X-API-Token"] = token,
                                                      ["X-Forwarded-Method"] = method, ["X-Forwarded-Uri"] = uri}))
   end
   start_rotation()
end
