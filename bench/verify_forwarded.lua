-- verify_forwarded.lua: GET /api/v1/verify as a gateway's forward-auth call,
-- one credential, X-Forwarded-Method / X-Forwarded-Uri rotating over a file.
--   wrk -t1 -c32 -d10s -s bench/verify_forwarded.lua URL -- KEY TOKEN REQUESTS
-- REQUESTS has "METHOD URI" lines. Requests are formatted once in init(), so
-- the client's cost is the same for every server. done() prints
-- "KSBENCH {json}" as verify.lua does (bench/run.py's wrk() reads it).

local reqs, n, i = {}, 0, 0

function init(args)
   local key, token, path = args[1], args[2], args[3]
   for line in io.lines(path) do
      local method, uri = line:match("^(%S+) (%S+)$")
      n = n + 1
      reqs[n] = wrk.format("GET", "/api/v1/verify", {["X-API-Key"] = key, ["X-API-Token"] = token,
                                                    ["X-Forwarded-Method"] = method, ["X-Forwarded-Uri"] = uri})
   end
   i = math.random(n) - 1
end

function request()
   i = i + 1
   if i > n then i = 1 end
   return reqs[i]
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'KSBENCH {"requests":%d,"duration_us":%d,"rps":%.1f,"errors":%d,"status_errors":%d,' ..
      '"p50_us":%d,"p99_us":%d,"p999_us":%d,"max_us":%d}\n',
      summary.requests, summary.duration, summary.requests / summary.duration * 1e6,
      e.connect + e.read + e.write + e.timeout, e.status,
      latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max))
end
