-- verify.lua: GET /api/v1/verify rotating over many keys.
--   wrk -t1 -c32 -d10s -s bench/verify.lua URL -- CREDS FIRST LAST
-- CREDS has "KEY TOKEN" lines (bench/seed.c); lines FIRST..LAST (1-based) are
-- used. Requests are formatted once in init(), so the client's cost per
-- request is the same whichever server answers (nginx ignores the headers).
-- done() prints one line "KSBENCH {json}" for bench/run.py.

-- Scripts that dofile() this one (verify_paced.lua, verify_forwarded.lua)
-- keep its rotation and done(): they build their requests with
-- add_request() and then call start_rotation().
local reqs, n, i = {}, 0, 0

function add_request(req)
   n = n + 1
   reqs[n] = req
end

-- Each thread starts at a random request, so threads do not move in step.
function start_rotation()
   i = math.random(n) - 1
end

function load_requests(args)
   local path, first, last = args[1], tonumber(args[2] or 1), tonumber(args[3] or 1e9)
   local line_no = 0
   for line in io.lines(path) do
      line_no = line_no + 1
      if line_no >= first and line_no <= last then
         local key, token = line:match("^(%S+) (%S+)$")
         add_request(wrk.format("GET", "/api/v1/verify", {["X-API-Key"] = key, ["X-API-Token"] = token}))
      end
   end
   start_rotation()
end

function init(args)
   load_requests(args)
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
